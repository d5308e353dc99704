DROP INDEX audit_events_outcome;
DROP INDEX audit_events_action;
DROP INDEX audit_events_target;
DROP INDEX audit_events_actor;
