select doc->>'a', doc->'b'->>0, doc #>> '{c, "d e"}', doc #> array['f', 'g'], doc['h'], doc->i, doc->>$1,
 jsonb_extract_path_text(doc, 'k', variadic array['l']), jsonb_path_query(doc, '$.m ? (@.n > 1)'),
 jsonb_path_exists(path => '$.o', target => doc), jsonb_each_text(doc)
from t, jsonb_to_record(t.doc) as x(p text), rows from (json_to_recordset(doc->'q') as (r int))
where doc @> '{"s": {"t": [1, {"u": 2}]}}' and doc @? '$.v' and jsonb_contains(doc, '{"w": 1}')
