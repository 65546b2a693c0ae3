with w as (insert into t (a, b) values (1, 2) on conflict (a) do update set c = excluded.c returning 1)
update u set (x, y) = (1, 2), z[1] = 3 where k = 1;
merge into t using s on t.id = s.id when matched then update set p = s.p when not matched then insert values (s.id);
copy t (a, b) from stdin; copy t from stdin; insert into t values (1)
