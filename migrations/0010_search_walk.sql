-- Message search, the common-term path (see docs/performance.md, search).
--
-- The trigram index (0008) finds the messages that contain a term, but not
-- in order: for a term in one message of ten, it fetches and sorts every
-- match to return the newest twenty. chatd_search_walk instead reads the
-- reader's conversations newest first, each along its primary key, and stops
-- as soon as no older message can make the page: a common term costs a few
-- hundred rows. After `budget` rows it gives up (a rare term), and the
-- caller asks the trigram index instead.
--
-- It relies on a message's created_at never being older than its
-- predecessor's in the same conversation (seq order is time order), which
-- appends keep from now on (src/store/message_store.cpp, msg_append_many).
--
-- Returns the page's keys, newest first (by created_at, conversation_id,
-- seq: the order of the trigram query too), or one row with over_budget.
CREATE FUNCTION chatd_search_walk(reader bigint, only_conv bigint, terms jsonb,
                                  before_at timestamptz, before_conv bigint, before_seq bigint,
                                  lim int, budget int)
RETURNS TABLE (conversation_id bigint, seq bigint, over_budget boolean)
LANGUAGE plpgsql STABLE AS $$
DECLARE
  pats text[];   -- every term's ILIKE pattern
  regs text[];   -- the word-prefix regexes of the Latin-script terms
  c record;
  r record;
  k_at timestamptz[] := '{}';
  k_conv bigint[] := '{}';
  k_seq bigint[] := '{}';
  th_at timestamptz;
  th_conv bigint;
  th_seq bigint;
  scanned int := 0;
  taken int;
BEGIN
  SELECT array_agg(t.pattern), coalesce(array_agg(t.regex) FILTER (WHERE t.regex IS NOT NULL), '{}')
    INTO pats, regs
    FROM jsonb_to_recordset(terms) AS t(pattern text, regex text);
  -- The reader's conversations, by their newest message, newest first.
  FOR c IN
    SELECT mm.conversation_id AS id, top.created_at AS at, top.seq
    FROM members mm
    CROSS JOIN LATERAL (
      SELECT m.created_at, m.seq FROM messages m
      WHERE m.conversation_id = mm.conversation_id
      ORDER BY m.seq DESC LIMIT 1) top
    WHERE mm.user_id = reader AND (only_conv = 0 OR mm.conversation_id = only_conv)
    ORDER BY top.created_at DESC, mm.conversation_id DESC
  LOOP
    -- Every later conversation's messages are older than the page's last.
    EXIT WHEN th_at IS NOT NULL AND (c.at, c.id, c.seq) < (th_at, th_conv, th_seq);
    taken := 0;
    -- Newest first along the primary key; whether each row matches is
    -- decided in the query, so the loop does little per row.
    FOR r IN
      SELECT m.seq, m.created_at,
             NOT m.deleted AND m.body ILIKE ALL (pats) AND m.body ~* ALL (regs) AS hit
      FROM messages m
      WHERE m.conversation_id = c.id
      ORDER BY m.seq DESC
      LIMIT budget - scanned + 1
    LOOP
      scanned := scanned + 1;
      IF scanned > budget THEN
        RETURN QUERY SELECT NULL::bigint, NULL::bigint, true;
        RETURN;
      END IF;
      IF r.hit THEN
        CONTINUE WHEN (r.created_at, c.id, r.seq) >= (before_at, before_conv, before_seq);
        EXIT WHEN th_at IS NOT NULL AND (r.created_at, c.id, r.seq) < (th_at, th_conv, th_seq);
        k_at := k_at || r.created_at;
        k_conv := k_conv || c.id;
        k_seq := k_seq || r.seq;
        taken := taken + 1;
        EXIT WHEN taken >= lim;
      ELSIF th_at IS NOT NULL AND r.created_at < th_at THEN
        EXIT;  -- older than the bar: so is the rest of this conversation
      END IF;
    END LOOP;
    IF taken > 0 THEN
      -- Keep the newest `lim`; the last of them is the bar to beat.
      SELECT array_agg(k.a ORDER BY k.a DESC, k.cv DESC, k.sq DESC),
             array_agg(k.cv ORDER BY k.a DESC, k.cv DESC, k.sq DESC),
             array_agg(k.sq ORDER BY k.a DESC, k.cv DESC, k.sq DESC)
        INTO k_at, k_conv, k_seq
        FROM (SELECT u.a, u.cv, u.sq FROM unnest(k_at, k_conv, k_seq) AS u(a, cv, sq)
              ORDER BY u.a DESC, u.cv DESC, u.sq DESC LIMIT lim) k;
      IF array_length(k_at, 1) >= lim THEN
        th_at := k_at[lim];
        th_conv := k_conv[lim];
        th_seq := k_seq[lim];
      END IF;
    END IF;
  END LOOP;
  RETURN QUERY SELECT u.cv, u.sq, false
    FROM unnest(k_conv, k_seq) WITH ORDINALITY AS u(cv, sq, n) ORDER BY u.n;
END
$$;
