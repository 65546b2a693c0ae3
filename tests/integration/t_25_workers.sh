#!/usr/bin/env bash
# Sessions are spread over the workers by load, not by the kernel's address
# hash: long sessions opened one after another end up half on each of the two
# workers (a connection the kernel gives a busier worker is handed over; the
# kernel alone put 8 of 12 on one worker here), and
# every one of them works; warden stops cleanly with handed-over sessions open.
source "$(dirname "$0")/lib.sh"
it_init

wd_new "$(conn appdb)"
wd_start
wd_env require

N=12
for ((i = 1; i <= N; i++)); do
  # each session waits in a transaction until its release file appears
  psql -X -At -v ON_ERROR_STOP=1 -c "select 'session-$i'" -c "select pg_sleep(0.2)" \
    -c "\\! while [ ! -e $T/release ]; do sleep 0.1; done" -c "select 'done-$i'" \
    >"$T/s$i.out" 2>&1 &
  bg_track $!
  eval "PID_$i=\$!"
  # the next one starts once this one is on its worker
  for ((k = 0; k < 100 * WAIT_SCALE; k++)); do
    [[ $(grep -c 'via .* worker [0-9]' "$WD_LOG") -ge $i ]] && break
    sleep 0.1
  done
done

on0=$(grep -c 'via .* worker 0)' "$WD_LOG")
on1=$(grep -c 'via .* worker 1)' "$WD_LOG")
assert_eq "$on0/$on1" "$((N / 2))/$((N / 2))" "$N sessions opened one by one: half on each worker"

touch "$T/release"
for ((i = 1; i <= N; i++)); do
  pid_var="PID_$i"
  wait "${!pid_var}"; rc=$?
  out=$(cat "$T/s$i.out")
  assert_rc "$rc" 0 "session $i ran to the end ($(show "$out" 120))"
  assert_contains "$out" "done-$i" "session $i: its last statement answered"
done

# shutdown with sessions open on both workers (some handed over): clean exit,
# each client told why
for ((i = 1; i <= N; i++)); do
  psql -X -At -c "select pg_sleep(30)" >"$T/h$i.out" 2>&1 &
  bg_track $!
  eval "HPID_$i=\$!"
done
for ((k = 0; k < 100 * WAIT_SCALE; k++)); do
  [[ $(grep -c 'via .* worker [0-9]' "$WD_LOG") -ge $((2 * N)) ]] && break
  sleep 0.1
done
wd_stop
for ((i = 1; i <= N; i++)); do
  pid_var="HPID_$i"
  wait "${!pid_var}"
  assert_contains "$(cat "$T/h$i.out")" "shutting down" "session $i on shutdown: the client is told warden is shutting down"
done

it_finish
