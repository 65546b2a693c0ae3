update accounts set api_key = null where id = 9; insert into t (a, b) values (1, NULL), (2, null::text);
merge into t using s on t.id = s.id when not matched then insert (id, q) values (s.id, null) when matched then update set q = null;
