-- The audit trail's filters (GET /api/v1/oauth/audit?actor=&target=&action=&outcome=):
-- each index holds a filter's column and the listing's order (id), so a filtered page,
-- and a cursor within it, is an index seek however long the trail, and a rare value does
-- not make the listing read every event. The time range (since, until) has
-- audit_events_occurred_at already.
CREATE INDEX audit_events_actor ON audit_events (actor_client_id, id);
CREATE INDEX audit_events_target ON audit_events (target, id);
CREATE INDEX audit_events_action ON audit_events (action, id);
CREATE INDEX audit_events_outcome ON audit_events (outcome, id);
