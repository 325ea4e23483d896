"""`ledger_post_fast`: a whole ledger posting in one round trip, installed in each tenant
schema by migration 0005 (docs/decisions/0015-ledger-fast-path.md).

It keeps every guarantee of the posting it replaces: the owner-bound accounts it touches are
locked `FOR UPDATE` in ascending id order; a key already posted returns that posting (or
'mismatch' when its legs digest differs, an empty digest counting as a replay); a debt-first
credit pays the owner's debt account first (made on first use); a wallet, hold or disputed
balance never goes below zero; entries are inserted in one statement, so the balancing trigger
checks them. Licensee-wide accounts (no owner) are not locked: their change goes to one of
`LedgerAccountShard.SHARDS` shard rows picked by the database transaction's id. Names are left
unqualified on purpose: they resolve in the calling session's tenant schema, as the function
does, so a schema cloned from another keeps working.

Rows are stamped `p_at`, the application's clock (as Django's `auto_now_add` stamps them).

Outcomes: 'posted', 'replayed', 'mismatch' (409 in the service), 'insufficient'. It writes
nothing but a missing debt account before deciding, so a refusal leaves the caller's
transaction usable.
"""

LEDGER_POST_FAST = r"""
CREATE FUNCTION ledger_post_fast(
    p_key text, p_kind text, p_description text, p_metadata jsonb, p_digest text,
    p_accounts bigint[], p_amounts bigint[], p_settles boolean[], p_at timestamptz,
    OUT outcome text, OUT posted_id bigint, OUT posted_at timestamptz,
    OUT stored_kind text, OUT stored_description text, OUT stored_metadata jsonb,
    OUT stored_digest text)
LANGUAGE plpgsql AS $$
DECLARE
    legs int := cardinality(p_accounts);
    debt_of bigint[] := array_fill(NULL::bigint, ARRAY[legs]);
    accounts bigint[];
    deltas bigint[];
    locked_ids bigint[];
    locked_kinds text[];
    locked_balances bigint[];
    owner bigint;
    owner_currency text;
    found_id bigint;
    owed bigint;
    to_debt bigint;
    i int;
    pos int;
    slot int := (txid_current() % 16)::int;
BEGIN
    -- Every account must be this schema's own (the entries' foreign key would only say so at
    -- commit, deferred).
    IF (SELECT count(*) FROM wallets_ledgeraccount a WHERE a.id = ANY(p_accounts))
       <> (SELECT count(DISTINCT x) FROM unnest(p_accounts) x) THEN
        RAISE EXCEPTION 'ledger posting names an account this schema does not have'
            USING ERRCODE = 'foreign_key_violation';
    END IF;

    -- The debt account of each debt-first wallet credit, made on first use.
    FOR i IN 1..legs LOOP
        CONTINUE WHEN NOT p_settles[i];
        SELECT a.owner_id, a.currency INTO owner, owner_currency
            FROM wallets_ledgeraccount a WHERE a.id = p_accounts[i];
        SELECT a.id INTO found_id FROM wallets_ledgeraccount a
            WHERE a.kind = 'debt' AND a.owner_id = owner;
        IF found_id IS NULL THEN
            INSERT INTO wallets_ledgeraccount (kind, owner_id, currency, balance_minor, created_at)
                VALUES ('debt', owner, owner_currency, 0, p_at)
                ON CONFLICT DO NOTHING RETURNING id INTO found_id;
            IF found_id IS NULL THEN  -- made concurrently
                SELECT a.id INTO found_id FROM wallets_ledgeraccount a
                    WHERE a.kind = 'debt' AND a.owner_id = owner;
            END IF;
        END IF;
        debt_of[i] := found_id;
    END LOOP;

    -- Owner-bound accounts, locked in ascending id order like every other locker.
    SELECT coalesce(array_agg(l.id), '{}'), coalesce(array_agg(l.kind), '{}'),
           coalesce(array_agg(l.balance_minor), '{}')
        INTO locked_ids, locked_kinds, locked_balances
        FROM (SELECT a.id, a.kind::text AS kind, a.balance_minor FROM wallets_ledgeraccount a
              WHERE a.id = ANY(p_accounts || debt_of) AND a.owner_id IS NOT NULL
              ORDER BY a.id FOR UPDATE) l;

    -- After the locks: a concurrent posting of the same key over these accounts is done.
    SELECT t.id, t.created_at, t.kind, t.description, t.metadata, t.legs_digest
        INTO posted_id, posted_at, stored_kind, stored_description, stored_metadata,
             stored_digest
        FROM wallets_ledgertransaction t WHERE t.idempotency_key = p_key;
    IF FOUND THEN
        outcome := CASE WHEN stored_digest <> '' AND stored_digest <> p_digest
                        THEN 'mismatch' ELSE 'replayed' END;
        RETURN;
    END IF;

    accounts := ARRAY(SELECT DISTINCT x FROM unnest(p_accounts || debt_of) x
                      WHERE x IS NOT NULL ORDER BY x);
    deltas := array_fill(0::bigint, ARRAY[cardinality(accounts)]);
    FOR i IN 1..legs LOOP
        pos := array_position(accounts, p_accounts[i]);
        deltas[pos] := deltas[pos] + p_amounts[i];
    END LOOP;
    -- Debt first: the part of each credit that the owner's (locked) debt still needs.
    FOR i IN 1..legs LOOP
        CONTINUE WHEN NOT p_settles[i];
        pos := array_position(accounts, debt_of[i]);
        owed := -(locked_balances[array_position(locked_ids, debt_of[i])] + deltas[pos]);
        to_debt := least(greatest(owed, 0), p_amounts[i]);
        IF to_debt > 0 THEN
            deltas[pos] := deltas[pos] + to_debt;
            pos := array_position(accounts, p_accounts[i]);
            deltas[pos] := deltas[pos] - to_debt;
        END IF;
    END LOOP;
    FOR i IN 1..cardinality(locked_ids) LOOP
        IF locked_kinds[i] IN ('wallet', 'hold', 'disputed')
           AND locked_balances[i] + deltas[array_position(accounts, locked_ids[i])] < 0 THEN
            outcome := 'insufficient';
            RETURN;
        END IF;
    END LOOP;

    INSERT INTO wallets_ledgertransaction
            (idempotency_key, kind, description, metadata, legs_digest, created_at)
        VALUES (p_key, p_kind, left(p_description, 300), p_metadata, p_digest, p_at)
        ON CONFLICT (idempotency_key) DO NOTHING
        RETURNING id, created_at INTO posted_id, posted_at;
    IF posted_id IS NULL THEN  -- the same key, posted concurrently, has committed
        SELECT t.id, t.created_at, t.kind, t.description, t.metadata, t.legs_digest
            INTO posted_id, posted_at, stored_kind, stored_description, stored_metadata,
                 stored_digest
            FROM wallets_ledgertransaction t WHERE t.idempotency_key = p_key;
        outcome := CASE WHEN stored_digest <> '' AND stored_digest <> p_digest
                        THEN 'mismatch' ELSE 'replayed' END;
        RETURN;
    END IF;

    INSERT INTO wallets_ledgerentry (transaction_id, account_id, amount_minor, created_at)
        SELECT posted_id, c.id, c.delta, posted_at
        FROM unnest(accounts, deltas) AS c(id, delta) WHERE c.delta <> 0 ORDER BY c.id;
    UPDATE wallets_ledgeraccount AS a SET balance_minor = a.balance_minor + c.delta
        FROM unnest(accounts, deltas) AS c(id, delta)
        WHERE a.id = c.id AND c.delta <> 0 AND c.id = ANY(locked_ids);
    INSERT INTO wallets_ledgeraccountshard AS s (account_id, shard, balance_minor)
        SELECT c.id, slot, c.delta FROM unnest(accounts, deltas) AS c(id, delta)
        WHERE c.delta <> 0 AND NOT c.id = ANY(locked_ids) ORDER BY c.id
        ON CONFLICT (account_id, shard)
        DO UPDATE SET balance_minor = s.balance_minor + EXCLUDED.balance_minor;

    outcome := 'posted';
    stored_kind := p_kind;
    stored_description := left(p_description, 300);
    stored_metadata := p_metadata;
    stored_digest := p_digest;
END $$;
"""

REMOVE_LEDGER_POST_FAST = (
    "DROP FUNCTION IF EXISTS ledger_post_fast("
    "text, text, text, jsonb, text, bigint[], bigint[], boolean[], timestamptz);"
)
