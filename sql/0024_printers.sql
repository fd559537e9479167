-- Kiosk printers in the registry (issue 12). A kiosk's printer: its CUPS
-- queue (cups_queue, there since 0002), the language it speaks (pdf for IPP
-- Everywhere and driver queues, zpl, tspl for raw queues), its media as a
-- PWG self-describing name in millimetres, its resolution, the dots of
-- dot-gain compensation and the darkness (NULL: the printer's own).
-- label_size (WxH@DPI, since 0002) and media + dpi say the same thing and
-- stay in step: whichever a write changes, the trigger derives the other.
-- printer_rev grows with every write, so a service's cache of printers asks
-- only for what changed since it last looked (printers_changed).

CREATE SEQUENCE kiosk_printer_rev;

ALTER TABLE kiosk
	ADD COLUMN printer_language text NOT NULL DEFAULT 'pdf'
		CHECK (printer_language IN ('pdf', 'zpl', 'tspl')),
	ADD COLUMN media text,
	ADD COLUMN dpi integer,
	ADD COLUMN dot_gain integer NOT NULL DEFAULT 0 CHECK (dot_gain BETWEEN -2 AND 3),
	ADD COLUMN darkness integer CHECK (darkness BETWEEN 0 AND 30),
	ADD COLUMN printer_rev bigint NOT NULL DEFAULT nextval('kiosk_printer_rev');

-- The label sizes the renderer lays out (printer/ac_label.h).
CREATE FUNCTION label_size_supported(p_w integer, p_h integer, p_dpi integer) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
	SELECT p_dpi IN (203, 300) AND (p_w, p_h) IN ((40, 30), (50, 30), (60, 40), (70, 50), (100, 70))
$$;

CREATE FUNCTION kiosk_printer_sync() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	v_m text[];
BEGIN
	IF NEW.media IS NOT NULL AND (TG_OP = 'INSERT' OR NEW.media IS DISTINCT FROM OLD.media
			OR NEW.dpi IS DISTINCT FROM OLD.dpi) THEN
		v_m := regexp_match(NEW.media, '^[a-z0-9]+_[a-z0-9.-]*_([0-9]{2,3})x([0-9]{2,3})mm$');
		IF v_m IS NULL THEN
			RAISE check_violation USING MESSAGE = 'media must be a PWG name in millimetres, e.g. om_60x40mm_60x40mm';
		END IF;
		NEW.dpi := coalesce(NEW.dpi, 203);
		NEW.label_size := v_m[1] || 'x' || v_m[2] || '@' || NEW.dpi;
	ELSE
		v_m := regexp_match(NEW.label_size, '^([0-9]{2,3})x([0-9]{2,3})@([0-9]{3})$');
		IF v_m IS NULL THEN
			RAISE check_violation USING MESSAGE = 'label_size must be WxH@DPI, e.g. 60x40@203';
		END IF;
		NEW.media := 'om_' || v_m[1] || 'x' || v_m[2] || 'mm_' || v_m[1] || 'x' || v_m[2] || 'mm';
		NEW.dpi := v_m[3]::integer;
	END IF;
	IF NOT label_size_supported(split_part(NEW.label_size, 'x', 1)::integer,
			split_part(split_part(NEW.label_size, 'x', 2), '@', 1)::integer, NEW.dpi) THEN
		RAISE check_violation USING MESSAGE = 'unsupported label size: 40x30, 50x30, 60x40, 70x50 or 100x70 mm at 203 or 300 dpi';
	END IF;
	IF NEW.printer_language = 'tspl' AND NEW.darkness > 15 THEN
		RAISE check_violation USING MESSAGE = 'TSPL darkness (DENSITY) is 0 to 15';
	END IF;
	NEW.printer_rev := nextval('kiosk_printer_rev');
	RETURN NEW;
END
$$;

-- Existing kiosks: media and dpi from their label_size (unsupported sizes,
-- which nothing could print, become 60x40 at their resolution).
UPDATE kiosk SET label_size = '60x40@' || CASE WHEN label_size LIKE '%@300' THEN '300' ELSE '203' END
WHERE NOT coalesce(label_size ~ '^(40x30|50x30|60x40|70x50|100x70)@(203|300)$', false);

CREATE TRIGGER kiosk_printer_sync BEFORE INSERT OR UPDATE ON kiosk
	FOR EACH ROW EXECUTE FUNCTION kiosk_printer_sync();

UPDATE kiosk SET media = NULL;

ALTER TABLE kiosk ALTER COLUMN media SET NOT NULL, ALTER COLUMN dpi SET NOT NULL,
	ADD CONSTRAINT kiosk_dpi CHECK (dpi IN (203, 300));

CREATE INDEX kiosk_by_printer_rev ON kiosk (printer_rev);

-- The kiosks' printers written since revision p_since (0: all), oldest first.
CREATE FUNCTION printers_changed(p_since bigint)
RETURNS TABLE (id text, cups_queue text, printer_language text, media text, dpi integer,
	dot_gain integer, darkness integer, status text, printer_rev bigint)
LANGUAGE sql STABLE AS $$
	SELECT k.id, k.cups_queue, k.printer_language, k.media, k.dpi, k.dot_gain, k.darkness,
		k.status, k.printer_rev
	FROM kiosk k WHERE k.printer_rev > p_since ORDER BY k.printer_rev
$$;

-- A kiosk as the API shows it: 0015's fields and its printer.
CREATE OR REPLACE FUNCTION kiosk_json(t kiosk) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT json_build_object('id', t.id, 'name', t.name, 'region_code', t.region_code::text,
		'region_name', (SELECT r.name FROM region r WHERE r.code = t.region_code),
		'cups_queue', t.cups_queue, 'label_size', t.label_size, 'status', t.status,
		'created_at', t.created_at, 'printer_language', t.printer_language,
		'media', t.media, 'dpi', t.dpi, 'dot_gain', t.dot_gain, 'darkness', t.darkness)
$$;

-- What went wrong with a print job, as a stable keyword (paused,
-- media-empty, offline, cups-down, timeout, ...): the kiosk says it in words.
ALTER TABLE print_job ADD COLUMN fault text;
