with s as (select profile as p, docs from customers), u as (update customers c set profile = jsonb_set(c.profile || '{"a": 1}', '{b,c}', s.p) - 'd' #- '{e,0}', notes = s.p, profile['f']['g'] = docs[1] from s returning c.profile, c.profile::text, left(c.notes, 3))
select jsonb_set_lax(p, array['h', $1], null, true, 'use_json_null'), jsonb_insert(p, '{i}', '2', insert_after => true), p || '[1]'::jsonb, to_jsonb(1) || p, p - 0 from s;
insert into customers values (1) on conflict (id) do update set profile = excluded.profile || customers.profile returning profile - 'j'
