-- Print job states written together (daemon/ac_printq.c): the states that
-- arrive while one such statement is under way are written by the next, one
-- statement and one audit entry for many jobs. Every statement that audits
-- takes the audit head's row lock until it commits (0003), so one state
-- statement per submitted job would queue the group commits of the
-- certificates being issued behind it. One element per job (its latest
-- state); p_cups NULL keeps the CUPS job id already recorded.
CREATE FUNCTION print_jobs_record(p_id bigint[], p_cups int[], p_state text[],
	p_reason text[], p_fault text[]) RETURNS void
LANGUAGE sql AS $$
	UPDATE print_job p SET cups_job_id = coalesce(u.cups, p.cups_job_id), state = u.state,
		reason = u.reason, fault = u.fault,
		submitted_at = coalesce(p.submitted_at, now()), updated_at = now()
	FROM unnest(p_id, p_cups, p_state, p_reason, p_fault) AS u(id, cups, state, reason, fault)
	WHERE p.id = u.id
$$;
