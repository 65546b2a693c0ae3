-- tests/integration/mask_seed.sql — sensitive data in many shapes, for t_94_mask.sh and
-- bench/mask.sh. Run as a superuser on database `app` (directly, never through warden:
-- the statements hold the clear values, and the audit trail must not).
--
--   public.customers (10 columns)  13 hand-written rows (ids 1-13) + 1000 generated (101-1100)
--   public.accounts                 column rules "*.password*" and "*.api_key"
--   t94.expect (value, kind, det)   what a masked reader must never see (kind 'secret') and
--                                   what it must see unchanged (kind 'clear'); det is the
--                                   detector (or 'column' / 'json_key') that must catch a secret
--                                   in `select * from customers`. Schema t94 belongs to the
--                                   superuser: nothing read through warden can reach it.
\set ON_ERROR_STOP 1
set client_min_messages = warning;
drop table if exists public.key_requests, public.customers, public.accounts;
drop schema if exists t94 cascade;
create schema t94;

create table public.customers (
  id       int primary key,
  name     text not null,
  email    varchar(120),
  phone    varchar(40),
  card     text,
  ssn      varchar(11),
  notes    text,
  profile  jsonb,
  api_key  text,
  employee text
);
create table public.accounts (id int primary key, password text, api_key text unique);

create table t94.expect (value text not null, kind text not null check (kind in ('secret', 'clear')), det text);

-- ---------------------------------------------------------------- hand-written rows
insert into public.customers values
(1, 'Alice Martin', 'alice.martin@example.org', '+1 415-555-0100', '4111 1111 1111 1111', '123-45-6789',
 'Customer wrote from jane.doe@example.com about invoice 7781; SSN 078-05-1120 confirmed on the phone.',
 '{"secret_token": "plainvalue123", "token": "tkvalue98765", "token_type": "refreshable",
   "tags": ["vip", "newsletter"], "nested": {"secret_pin": "pinalpha7731", "level": 3}}',
 'sk_live_4eC39HqLyjWDarjtT1zdp7dc', 'EMP-104233'),
(2, 'Bob Smith', 'bob.smith@example.net', '(415) 555-0132', '5555-5555-5555-4444', '219-09-9999',
 '2024-05-01T10:00:00Z INFO auth token=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c user=bob ip=203.0.113.42',
 '{"contact": {"email": "bob.private@example.net", "city": "Lyon"}, "token": "plainvalue456"}',
 'sk_live_9Xb2LmQ7rT4vW8yZ1cD3fG5h', 'EMP-104234'),
(3, 'Carol Jones', 'carol.jones@example.com', '+44 20 7946 0958', '4111 1111 1111 1112', '912-70-3456',
 'Refund to IBAN DE89 3704 0044 0532 0130 00 requested; the old account DE89 3704 0044 0532 0130 01 is closed.',
 '{"plan": "basic", "secret_answer": "rosebudplain42"}',
 'pk_test_TYooMQauvdEDq54NiTphI7jx', 'EMP-104235'),
(4, 'Dave Brown', 'dave.brown@example.org', '415.555.0199', '378282246310005', '078-05-1120',
 'deploy creds: aws_access_key_id = AKIAIOSFODNN7EXAMPLE region eu-west-1; DSN postgres://admin:s3cr3tPassw0rd@db.internal.example.com:5432/app?sslmode=require; aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
 '{"token": "plainvalue789", "theme": "dark"}',
 'sk_live_Zq8Wm3Nx7Ty2Rv6Pb1Kc4Hd9', 'EMP-104236'),
(5, 'Eve Davis', 'eve.davis@example.com', '+33 1 23 45 67 89', '4111-1111-1111-1112', '345-67-8901',
 E'key: -----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\nKUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQ==\n-----END RSA PRIVATE KEY-----\nrotated after the incident',
 '{"secret_seed": "seedplain5521", "prefs": {"lang": "fr"}}',
 'sk_live_Pa4Sd5Fg6Hj7Kl8Zx9Cv0Bn1', 'EMP-104237'),
(6, 'Frank Miller', 'frank.miller@example.net', '+4915123456789', '6011 1111 1111 1117', '456-78-9012',
 E'HTTP request headers: Authorization: Bearer 9f8e7d6c5b4a3210fedcba9876543210\r\nAccept: application/json\r\nbody: {"event": "invoice.paid", "token": "whfragtok6612", "secret": {"pin": "whpin3390"}}',
 '{"api": {"token": "nestedtok4455", "version": 2}}',
 'sk_live_Qw1Er2Ty3Ui4Op5As6Df7Gh8', 'EMP-104238'),
(7, 'Grace Wilson', 'grace.wilson@example.org', '(212) 555-0147', '4111111111111112', '567-89-0123',
 'Storage: DefaultEndpointsProtocol=https;AccountName=prodstore;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;EndpointSuffix=core.windows.net; CI: GITHUB_TOKEN=ghp_16C7e42F292c6912E7710c838347Ae178B4a SLACK_BOT_TOKEN=xoxb-123456789012-1234567890123-abcdefghijklmnopqrstuvwx STRIPE=sk_live_51HqLyjWDarjtT1zdp7dcXyZ MAPS=AIzaSyA-1234567890abcdefghijklmnopqrstu',
 '{"tier": "silver"}',
 'sk_live_Lk9Jh8Gf7Ds6Ap5Ow4Ie3Ur2', 'EMP-104239'),
(8, 'Heidi Clark', 'heidi.clark@example.com', '+1 646-555-0175', '4012 8888 8888 1881', '678-90-1234',
 'Moved to GB82 WEST 1234 5698 7654 32, works with EMP-555001; call +44 161 496 0753 after 5pm',
 '{"secret_note": "nothingspecial", "token": "tkvalue11223"}',
 'sk_live_Mn2Bv3Cx4Zl5Kj6Hg7Fd8Sa9', 'EMP-104240'),
(9, 'Ivan Lewis', 'ivan.lewis@example.net', '+1 303-555-0114', '5555 5555 5555 4440', '789-01-2345',
 'iban=NL91ABNA0417164300 and logins from 198.51.100.7 plus 192.0.2.55',
 '{"devices": [{"token": "devtok8899"}, {"name": "laptop"}]}',
 'sk_live_Rt5Yu6Io7Pa8Sd9Fg0Hj1Kl2', 'EMP-104241'),
(10, 'Judy Young', 'judy.young@example.com', '+1 720-555-0161', '3782 822463 10005', '890-12-3456',
 'no sensitive content here: order 7781 shipped with release v1.2.3',
 '{"theme": "light-beside-a-card", "visits": 42, "card_on_file": 4012888888881881}',
 'sk_live_Xc3Vb4Nm5Qw6Er7Ty8Ui9Op0', 'EMP-104242'),
(11, 'Mallory Null', null, null, null, null, null, null, null, null),
(12, 'Zoë Müller', 'zoe.mueller@example.de', '+49 30 901820', '4111-1111-1111-1111', '901-23-4567',
 'Unicode note: Grüße aus Köln, Post an zoë@müller-bäckerei.de, Rückruf 0171 1234567 oder 030/12345678, in Paris 01 42 68 53 00, in Dublin o''brien@example.ie. Invalid SSN 666-12-3456 stays; the card 5105 1051 0510 5100 does not. Deploy: OPENAI_API_KEY=sk-proj-Zq8Wm3Nx7Ty2Rv6Pb1Kc4Hd9Ab3dEf6hIj9kLm2nOp5qRs8t ANTHROPIC_API_KEY=sk-ant-api03-Lk9Jh8Gf7Ds6Ap5Ow4Ie3Ur2Ab3dEf6hIj9kLm2nOp5q-AbCdAA; curl -H "Authorization: Basic YWRtaW46dDBwLXMzY3JldA=="; dsn host=db.internal user=app password=Tr0ub4dorX9 dbname=app; refund to iban de89 3704 0044 0532 0130 00.',
 '{"secret_token": "zoeplain7788", "greeting": "Grüß Gott", "backup": "josé.garcía@correo.es"}',
 'sk_live_Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8', 'EMP-104243'),
-- values of 50 and 49 bytes, whose lengths end in "2" and "1" on the wire, starting with an SSN and a phone
(13, 'Nina Length', null, null, null, null, '536-22-8123 confirmed by phone, the ticket closed.', null, null,
 '(415) 555-0188 is the desk line, call after 5 pm.');

insert into public.accounts values
  (1, 'CorrectHorseBatteryStaple', 'ak_9Z8Y7X6W5V4U3T2S1R0Q'),
  (2, 'Tr0ub4dor&3xyz', 'ak_1A2B3C4D5E6F7G8H9I0J'),
  (3, 'hunter2hunter2', 'ak_QwErTy1234567890AsDf');

-- what must never reach a masked reader, and which detector catches it in `select *`
insert into t94.expect (value, kind, det) values
  ('alice.martin@example.org', 'secret', 'email'), ('jane.doe@example.com', 'secret', 'email'),
  ('bob.smith@example.net', 'secret', 'email'), ('bob.private@example.net', 'secret', 'email'),
  ('carol.jones@example.com', 'secret', 'email'), ('dave.brown@example.org', 'secret', 'email'),
  ('eve.davis@example.com', 'secret', 'email'), ('frank.miller@example.net', 'secret', 'email'),
  ('grace.wilson@example.org', 'secret', 'email'), ('heidi.clark@example.com', 'secret', 'email'),
  ('ivan.lewis@example.net', 'secret', 'email'), ('judy.young@example.com', 'secret', 'email'),
  ('zoe.mueller@example.de', 'secret', 'email'),
  ('zoë@müller-bäckerei.de', 'secret', 'email'), ('josé.garcía@correo.es', 'secret', 'email'), -- internationalised (row 12)
  ('+1 415-555-0100', 'secret', 'phone'), ('(415) 555-0132', 'secret', 'phone'),
  ('+44 20 7946 0958', 'secret', 'phone'), ('415.555.0199', 'secret', 'phone'),
  ('+33 1 23 45 67 89', 'secret', 'phone'), ('+4915123456789', 'secret', 'phone'),
  ('(212) 555-0147', 'secret', 'phone'), ('+1 646-555-0175', 'secret', 'phone'),
  ('+44 161 496 0753', 'secret', 'phone'), ('+1 303-555-0114', 'secret', 'phone'),
  ('+1 720-555-0161', 'secret', 'phone'), ('+49 30 901820', 'secret', 'phone'),
  ('4111 1111 1111 1111', 'secret', 'credit_card'), ('5555-5555-5555-4444', 'secret', 'credit_card'),
  ('378282246310005', 'secret', 'credit_card'), ('6011 1111 1111 1117', 'secret', 'credit_card'),
  ('4012 8888 8888 1881', 'secret', 'credit_card'), ('3782 822463 10005', 'secret', 'credit_card'),
  ('4111-1111-1111-1111', 'secret', 'credit_card'), ('5105 1051 0510 5100', 'secret', 'credit_card'),
  ('4012888888881881', 'secret', 'credit_card'), -- a JSON number (row 10)
  ('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'secret', 'aws_secret_key'),
  ('ghp_16C7e42F292c6912E7710c838347Ae178B4a', 'secret', 'github_token'),
  ('xoxb-123456789012-1234567890123-abcdefghijklmnopqrstuvwx', 'secret', 'slack_token'),
  ('sk_live_51HqLyjWDarjtT1zdp7dcXyZ', 'secret', 'stripe_key'),
  ('AIzaSyA-1234567890abcdefghijklmnopqrstu', 'secret', 'google_api_key'),
  ('123-45-6789', 'secret', 'column'), ('219-09-9999', 'secret', 'column'), ('912-70-3456', 'secret', 'column'),
  ('345-67-8901', 'secret', 'column'), ('456-78-9012', 'secret', 'column'), ('567-89-0123', 'secret', 'column'),
  ('678-90-1234', 'secret', 'column'), ('789-01-2345', 'secret', 'column'), ('890-12-3456', 'secret', 'column'),
  ('901-23-4567', 'secret', 'column'),
  ('078-05-1120', 'secret', 'us_ssn'),   -- in the notes of row 1 (and row 4's ssn column)
  ('536-22-8123', 'secret', 'us_ssn'), ('(415) 555-0188', 'secret', 'phone'), -- row 13, right after a length's digit
  ('0171 1234567', 'secret', 'phone'), ('030/12345678', 'secret', 'phone'), -- national numbers (row 12)
  ('01 42 68 53 00', 'secret', 'phone'),
  ('o''brien@example.ie', 'secret', 'email'), ('o''brien', 'secret', null), -- an apostrophe in the local part (row 12)
  ('DE89 3704 0044 0532 0130 00', 'secret', 'iban'), ('GB82 WEST 1234 5698 7654 32', 'secret', 'iban'),
  ('NL91ABNA0417164300', 'secret', 'iban'),
  ('de89 3704 0044 0532 0130 00', 'secret', 'iban'), -- typed in lower case (row 12)
  ('sk-proj-Zq8Wm3Nx7Ty2Rv6Pb1Kc4Hd9Ab3dEf6hIj9kLm2nOp5qRs8t', 'secret', 'openai_key'), -- row 12's deploy notes
  ('sk-ant-api03-Lk9Jh8Gf7Ds6Ap5Ow4Ie3Ur2Ab3dEf6hIj9kLm2nOp5q-AbCdAA', 'secret', 'anthropic_key'),
  ('YWRtaW46dDBwLXMzY3JldA==', 'secret', 'basic_auth'), ('Tr0ub4dorX9', 'secret', 'password_in_text'),
  ('203.0.113.42', 'secret', 'ipv4'), ('198.51.100.7', 'secret', 'ipv4'), ('192.0.2.55', 'secret', 'ipv4'),
  ('eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c', 'secret', 'jwt'),
  ('eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ', 'secret', null),
  ('AKIAIOSFODNN7EXAMPLE', 'secret', 'aws_access_key'),
  ('Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==', 'secret', 'azure_storage_key'),
  ('MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu', 'secret', 'private_key'),
  ('KUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQ==', 'secret', null),
  ('s3cr3tPassw0rd', 'secret', 'password_in_url'),
  ('9f8e7d6c5b4a3210fedcba9876543210', 'secret', 'bearer_token'),
  ('EMP-104233', 'secret', 'employee_id'), ('EMP-104234', 'secret', 'employee_id'),
  ('EMP-104235', 'secret', 'employee_id'), ('EMP-104236', 'secret', 'employee_id'),
  ('EMP-104237', 'secret', 'employee_id'), ('EMP-104238', 'secret', 'employee_id'),
  ('EMP-104239', 'secret', 'employee_id'), ('EMP-104240', 'secret', 'employee_id'),
  ('EMP-555001', 'secret', 'employee_id'), ('EMP-104241', 'secret', 'employee_id'),
  ('EMP-104242', 'secret', 'employee_id'), ('EMP-104243', 'secret', 'employee_id'),
  -- json_keys ["secret*", "token"]: values no detector would find
  ('plainvalue123', 'secret', 'json_key'), ('tkvalue98765', 'secret', 'json_key'),
  ('pinalpha7731', 'secret', 'json_key'), ('plainvalue456', 'secret', 'json_key'),
  ('rosebudplain42', 'secret', 'json_key'), ('plainvalue789', 'secret', 'json_key'),
  ('seedplain5521', 'secret', 'json_key'), ('nestedtok4455', 'secret', 'json_key'),
  ('nothingspecial', 'secret', 'json_key'), ('tkvalue11223', 'secret', 'json_key'),
  ('devtok8899', 'secret', 'json_key'), ('zoeplain7788', 'secret', 'json_key'),
  ('whfragtok6612', 'secret', 'json_key'), ('whpin3390', 'secret', 'json_key'), -- JSON inside text (row 6's notes)
  -- column rule "*.api_key" (nothing a detector would find)
  ('sk_live_4eC39HqLyjWDarjtT1zdp7dc', 'secret', 'column'), ('sk_live_9Xb2LmQ7rT4vW8yZ1cD3fG5h', 'secret', 'column'),
  ('pk_test_TYooMQauvdEDq54NiTphI7jx', 'secret', 'column'), ('sk_live_Zq8Wm3Nx7Ty2Rv6Pb1Kc4Hd9', 'secret', 'column'),
  ('sk_live_Pa4Sd5Fg6Hj7Kl8Zx9Cv0Bn1', 'secret', 'column'), ('sk_live_Qw1Er2Ty3Ui4Op5As6Df7Gh8', 'secret', 'column'),
  ('sk_live_Lk9Jh8Gf7Ds6Ap5Ow4Ie3Ur2', 'secret', 'column'), ('sk_live_Mn2Bv3Cx4Zl5Kj6Hg7Fd8Sa9', 'secret', 'column'),
  ('sk_live_Rt5Yu6Io7Pa8Sd9Fg0Hj1Kl2', 'secret', 'column'), ('sk_live_Xc3Vb4Nm5Qw6Er7Ty8Ui9Op0', 'secret', 'column'),
  ('sk_live_Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8', 'secret', 'column'),
  -- what a masked reader must see unchanged: names, near misses, other JSON keys
  ('Alice Martin', 'clear', null), ('Bob Smith', 'clear', null), ('Carol Jones', 'clear', null),
  ('Dave Brown', 'clear', null), ('Eve Davis', 'clear', null), ('Frank Miller', 'clear', null),
  ('Grace Wilson', 'clear', null), ('Heidi Clark', 'clear', null), ('Ivan Lewis', 'clear', null),
  ('Judy Young', 'clear', null), ('Mallory Null', 'clear', null), ('Zoë Müller', 'clear', null),
  ('4111 1111 1111 1112', 'clear', null), ('4111-1111-1111-1112', 'clear', null),
  ('4111111111111112', 'clear', null), ('5555 5555 5555 4440', 'clear', null),
  ('DE89 3704 0044 0532 0130 01', 'clear', null), ('666-12-3456', 'clear', null),
  ('order 7781 shipped with release v1.2.3', 'clear', null), ('rotated after the incident', 'clear', null),
  ('Customer wrote from ', 'clear', null), ('Grüße aus Köln, Post an ', 'clear', null),
  ('refreshable', 'clear', null), ('newsletter', 'clear', null), ('Lyon', 'clear', null),
  ('laptop', 'clear', null), ('silver', 'clear', null), ('Grüß Gott', 'clear', null),
  ('light-beside-a-card', 'clear', null), -- beside a card as a JSON number
  ('EndpointSuffix=core.windows.net', 'clear', null), ('db.internal.example.com:5432/app', 'clear', null),
  ('invoice.paid', 'clear', null);

-- ---------------------------------------------------------------- 1000 generated rows
-- Luhn check digit of a string of digits.
create function t94.luhn_digit(digits text) returns int language plpgsql immutable as $$
declare s int := 0; d int; dbl boolean := true;
begin
  for i in reverse length(digits)..1 loop
    d := substr(digits, i, 1)::int;
    if dbl then d := d * 2; if d > 9 then d := d - 9; end if; end if;
    s := s + d; dbl := not dbl;
  end loop;
  return (10 - s % 10) % 10;
end $$;

create table t94.gen as
select g,
       lpad(g::text, 5, '0') as n,
       '4532' || lpad((g * 7919)::text, 11, '0') as body,
       g % 7 = 0 as bad_card,
       lpad((100 + g % 500)::text, 3, '0') || '-' || lpad((1 + g % 98)::text, 2, '0') || '-' || lpad((1000 + g)::text, 4, '0') as ssn,
       '10.20.' || (g / 256) || '.' || (g % 256) as ip
from generate_series(101, 1100) g;
alter table t94.gen add column card text;
update t94.gen set card = body || ((t94.luhn_digit(body) + case when bad_card then 1 else 0 end) % 10)::text;
-- formats: plain, groups of four with spaces, groups of four with dashes
update t94.gen set card = case g % 3
  when 0 then card
  when 1 then substr(card, 1, 4) || ' ' || substr(card, 5, 4) || ' ' || substr(card, 9, 4) || ' ' || substr(card, 13, 4)
  else substr(card, 1, 4) || '-' || substr(card, 5, 4) || '-' || substr(card, 9, 4) || '-' || substr(card, 13, 4) end;

insert into public.customers
select g, 'Customer ' || n, 'bulk' || n || '.user@example.com', '+1 212-555-' || lpad((g % 10000)::text, 4, '0'),
       card, ssn,
       'Order ' || n || ' paid, receipt sent to bulk' || n || '.receipts@example.com from ' || ip
         || case when g % 10 = 0 then ', SSN ' || ssn || ' verified' else '' end || '; handled by EMP-' || lpad((300000 + g)::text, 6, '0'),
       jsonb_build_object('secret_token', 'bulkplain' || n, 'token', 'bulktok' || n, 'tier', 'gold', 'visits', g),
       'ak_bulk_' || md5(g::text), 'EMP-' || lpad((200000 + g)::text, 6, '0')
from t94.gen;

insert into t94.expect (value, kind, det)
select 'bulk' || n || '.user@example.com', 'secret', 'email' from t94.gen union all
select 'bulk' || n || '.receipts@example.com', 'secret', 'email' from t94.gen union all
select '+1 212-555-' || lpad((g % 10000)::text, 4, '0'), 'secret', 'phone' from t94.gen union all
select card, case when bad_card then 'clear' else 'secret' end, case when bad_card then null else 'credit_card' end from t94.gen union all
select ssn, 'secret', 'column' from t94.gen union all
select ssn, 'secret', 'us_ssn' from t94.gen where g % 10 = 0 union all
select ip, 'secret', 'ipv4' from t94.gen union all
select 'bulkplain' || n, 'secret', 'json_key' from t94.gen union all
select 'bulktok' || n, 'secret', 'json_key' from t94.gen union all
select 'ak_bulk_' || md5(g::text), 'secret', 'column' from t94.gen union all
select 'EMP-' || lpad((200000 + g)::text, 6, '0'), 'secret', 'employee_id' from t94.gen union all
select 'EMP-' || lpad((300000 + g)::text, 6, '0'), 'secret', 'employee_id' from t94.gen union all
select 'Customer ' || n, 'clear', null from t94.gen union all
select 'Order ' || n || ' paid, receipt sent to ', 'clear', null from t94.gen;

insert into t94.expect (value, kind, det) values
  ('CorrectHorseBatteryStaple', 'secret', 'column'), ('Tr0ub4dor&3xyz', 'secret', 'column'),
  ('hunter2hunter2', 'secret', 'column'), ('ak_9Z8Y7X6W5V4U3T2S1R0Q', 'secret', 'column'),
  ('ak_1A2B3C4D5E6F7G8H9I0J', 'secret', 'column'), ('ak_QwErTy1234567890AsDf', 'secret', 'column');

alter table public.customers owner to app_scram;
alter table public.accounts owner to app_scram;
-- a foreign key to a column rule's column: a write to it answers whether a value is there
create table public.key_requests (id int primary key, requested_key text references public.accounts (api_key));
alter table public.key_requests owner to app_scram;
analyze public.customers;
