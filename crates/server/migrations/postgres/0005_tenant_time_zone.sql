-- The time zone people read the tenant's times in (alert mails, the notification draft, the
-- dashboard): an IANA name, checked against the server's time-zone database before it is
-- stored (kit::time::Zone). Set by admins in the privacy settings.
ALTER TABLE tenants ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'Europe/Amsterdam';
