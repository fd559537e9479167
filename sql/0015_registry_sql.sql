-- The registry's (名录库) fixed statements, moved out of C string literals
-- (service/handlers/registry/): each record as the API shows it, the
-- division tree, subjects' grade and status changes with their history.
-- The lists, inserts and updates over an entity's columns stay built in C
-- from the entity's table; they call the *_json functions below.

-- A record as the API writes it, one function per table. region_code is
-- text: 12 digits do not survive a JavaScript number everywhere.
CREATE FUNCTION subject_json(t subject) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT json_build_object('id', t.id, 'kind', t.kind, 'name', t.name,
		'credit_code', t.credit_code, 'id_number', t.id_number, 'contact', t.contact,
		'region_code', t.region_code::text,
		'region_name', (SELECT r.name FROM region r WHERE r.code = t.region_code),
		'address', t.address, 'credit_grade', t.credit_grade,
		'key_supervision', t.credit_grade = 'C', 'status', t.status,
		'created_at', t.created_at)
$$;

CREATE FUNCTION market_json(t market) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT json_build_object('id', t.id, 'name', t.name, 'region_code', t.region_code::text,
		'region_name', (SELECT r.name FROM region r WHERE r.code = t.region_code),
		'kind', t.kind, 'address', t.address, 'created_at', t.created_at)
$$;

CREATE FUNCTION kiosk_json(t kiosk) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT json_build_object('id', t.id, 'name', t.name, 'region_code', t.region_code::text,
		'region_name', (SELECT r.name FROM region r WHERE r.code = t.region_code),
		'cups_queue', t.cups_queue, 'label_size', t.label_size, 'status', t.status,
		'created_at', t.created_at)
$$;

CREATE FUNCTION product_json(t product) RETURNS json
LANGUAGE sql IMMUTABLE AS $$
	SELECT json_build_object('id', t.id, 'name', t.name, 'category', t.category,
		'default_unit', t.default_unit, 'key_risk', t.key_risk)
$$;

CREATE FUNCTION region_json(t region) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT json_build_object('code', t.code::text, 'name', t.name, 'level', t.level,
		'parent', t.parent::text,
		'children', (SELECT count(*) FROM region k WHERE k.parent = t.code))
$$;

-- The regions under p_parent (the roots when NULL), and whether p_parent
-- exists at all.
CREATE FUNCTION region_children(p_parent bigint DEFAULT NULL)
RETURNS TABLE (found boolean, items json)
LANGUAGE sql STABLE AS $$
	SELECT p_parent IS NULL OR EXISTS (SELECT 1 FROM region WHERE code = p_parent),
		(SELECT coalesce(json_agg(region_json(t) ORDER BY t.code), '[]')
		FROM region t WHERE t.parent IS NOT DISTINCT FROM p_parent)
$$;

-- A region with the path down to it from its province and its full name
-- (福建省泉州市安溪县凤城镇…); no row when it does not exist.
CREATE FUNCTION region_detail(p_code bigint)
RETURNS TABLE (obj json)
LANGUAGE sql STABLE AS $$
	WITH RECURSIVE up AS (
		SELECT code, name, level, parent, 0 AS depth FROM region WHERE code = p_code
		UNION ALL
		SELECT r.code, r.name, r.level, r.parent, up.depth + 1
		FROM region r JOIN up ON r.code = up.parent WHERE up.depth < 8)
	SELECT json_build_object('code', t.code::text, 'name', t.name, 'level', t.level,
		'parent', t.parent::text,
		'path', (SELECT coalesce(json_agg(json_build_object('code', u.code::text,
				'name', u.name, 'level', u.level) ORDER BY u.depth DESC), '[]')
			FROM up u WHERE u.depth > 0),
		'full_name', (SELECT string_agg(u.name, '' ORDER BY u.depth DESC) FROM up u),
		'children', (SELECT count(*) FROM region k WHERE k.parent = t.code))
	FROM up t WHERE t.depth = 0
$$;

-- Adds a region. A province (no parent) has a code whose last 10 digits are
-- zero. Otherwise the parent must exist and not be a village, and the new
-- code must continue the parent's: the same digits down to the parent's
-- level, something at the next level, zeros below it. No row when refused;
-- a code that exists raises unique_violation.
CREATE FUNCTION region_add(p_code bigint, p_name text, p_parent bigint DEFAULT NULL)
RETURNS TABLE (obj json)
LANGUAGE plpgsql AS $$
BEGIN
	IF p_parent IS NULL THEN
		RETURN QUERY
		INSERT INTO region AS t (code, name, level)
		SELECT p_code, p_name, 1 WHERE substr(p_code::text, 3) ~ '^0+$'
		RETURNING region_json(t);
		RETURN;
	END IF;
	RETURN QUERY
	INSERT INTO region AS t (code, name, level, parent)
	SELECT p_code, p_name, p.level + 1, p.code FROM region p
	WHERE p.code = p_parent AND p.level < 5
		AND left(p_code::text, (ARRAY[2, 4, 6, 9])[p.level])
			= left(p_parent::text, (ARRAY[2, 4, 6, 9])[p.level])
		AND substr(p_code::text, (ARRAY[4, 6, 9, 12])[p.level] + 1) ~ '^0*$'
		AND p_code <> p_parent
	RETURNING region_json(t);
END $$;

-- Sets a subject's credit grade or status (p_field: credit_grade or status)
-- and, when the value changes, records who, when and why in subject_change.
-- The subject must still be in p_region, the region the caller's
-- jurisdiction was checked against: no row when it was moved meanwhile.
-- changed says whether the value changed.
CREATE FUNCTION subject_set(p_subject integer, p_region bigint, p_field text, p_value text,
	p_reason text, p_actor_subject integer, p_actor_role text)
RETURNS TABLE (obj json, changed boolean)
LANGUAGE plpgsql AS $$
DECLARE
	v_old text;
	v_row subject;
BEGIN
	IF p_field NOT IN ('credit_grade', 'status') THEN
		RAISE EXCEPTION 'subject_set: no such field %', p_field
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT CASE p_field WHEN 'credit_grade' THEN s.credit_grade::text ELSE s.status END
	INTO v_old FROM subject s
	WHERE s.id = p_subject AND s.region_code IS NOT DISTINCT FROM p_region FOR UPDATE;
	IF NOT FOUND THEN
		RETURN;
	END IF;
	changed := v_old IS DISTINCT FROM p_value;
	IF changed THEN
		UPDATE subject s SET
			credit_grade = CASE p_field WHEN 'credit_grade' THEN p_value
				ELSE s.credit_grade END,
			status = CASE p_field WHEN 'status' THEN p_value ELSE s.status END
		WHERE s.id = p_subject;
		INSERT INTO subject_change (subject_id, field, old_value, new_value, reason,
			actor_subject_id, actor_role)
		VALUES (p_subject, p_field, v_old, p_value, p_reason, p_actor_subject,
			p_actor_role);
	END IF;
	SELECT * INTO v_row FROM subject s WHERE s.id = p_subject;
	obj := subject_json(v_row);
	RETURN NEXT;
END $$;

-- A subject's grade and status changes, newest first, with the actor's name;
-- found says whether the subject exists.
CREATE FUNCTION subject_changes(p_subject integer, p_limit integer, p_offset integer)
RETURNS TABLE (found boolean, total bigint, items json)
LANGUAGE sql STABLE AS $$
	SELECT EXISTS (SELECT 1 FROM subject WHERE id = p_subject),
		(SELECT count(*) FROM subject_change WHERE subject_id = p_subject),
		(SELECT coalesce(json_agg(j ORDER BY id DESC), '[]') FROM (
			SELECT c.id, json_build_object('id', c.id, 'field', c.field,
				'old_value', c.old_value, 'new_value', c.new_value,
				'reason', c.reason, 'actor_subject_id', c.actor_subject_id,
				'actor_name', (SELECT s.name FROM subject s
					WHERE s.id = c.actor_subject_id),
				'actor_role', c.actor_role, 'at', c.at) AS j
			FROM subject_change c WHERE c.subject_id = p_subject
			ORDER BY c.id DESC LIMIT p_limit OFFSET p_offset) q)
$$;
