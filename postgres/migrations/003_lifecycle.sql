-- Package lifecycle (seed 001). A carrier notifies that a user's package
-- expired (type 1) or entered the reservation period (type 2). package_states
-- holds each notified package's current state; package_events every change,
-- in order. The user's status (carrier_users.status, what reconciliation
-- reports as userStatus) follows the latest change. See
-- docs/package-lifecycle.md.
CREATE TABLE package_states (
    carrier_id      TEXT NOT NULL REFERENCES carriers (id),
    carrier_user_id TEXT NOT NULL,
    package_id      TEXT NOT NULL,
    state           INTEGER NOT NULL,
    event_id        BIGINT NOT NULL,
    changed_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (carrier_id, carrier_user_id, package_id)
);

-- Changes of one user are serialised by a lock on the user's row, so the
-- ids of a user's events follow the order of the changes.
CREATE TABLE package_events (
    id                   BIGSERIAL PRIMARY KEY,
    carrier_id           TEXT NOT NULL REFERENCES carriers (id),
    carrier_user_id      TEXT NOT NULL,
    package_id           TEXT NOT NULL,
    type                 INTEGER NOT NULL,
    previous_type        INTEGER NOT NULL,
    user_status          TEXT NOT NULL,
    previous_user_status TEXT NOT NULL,
    trace_id             TEXT NOT NULL,
    created_at           TIMESTAMPTZ NOT NULL
);
CREATE INDEX package_events_carrier ON package_events (carrier_id, id);
CREATE INDEX package_events_user ON package_events (carrier_id, carrier_user_id, id);

-- A notice names a package by the kdPackageId of one of the user's orders.
CREATE INDEX orders_user_package ON orders (carrier_id, carrier_user_id, kd_package_id);
