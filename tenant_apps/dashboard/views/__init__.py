"""The licensee dashboard (`/dashboard/` on the licensee's hosts): server-rendered pages for
owners and admins, one module per section. Every change goes through the owning app's
service, inside one transaction with its audit entry (`page.act`); every list downloads as
CSV with `?format=csv`.

An end user's data-subject requests and the data exports are compliance's pages
(`compliance.licensee.dashboard`, above the tenant apps): they share this URL namespace and
these templates, and show on the dashboard's own pages through `..contributions`."""
