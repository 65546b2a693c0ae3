// What the node-postgres test clients print: one line per check, then
// NODE-FAILURES n (what tests/integration/t_60_node.sh and t_94_mask.sh look for),
// and the exit status (non-zero on any failure).
'use strict';

let failures = 0;

function check(cond, what, detail) {
  if (cond) {
    console.log('  ok   node: ' + what);
  } else {
    failures++;
    console.log('  FAIL node: ' + what + (detail !== undefined ? ' ' + JSON.stringify(detail).slice(0, 300) : ''));
  }
}

// Runs main (async), then reports; an exception counts as one more failure.
function run(main) {
  main().then(() => {
    console.log('NODE-FAILURES ' + failures);
    process.exit(failures ? 1 : 0);
  }, (e) => {
    console.log('  FAIL node: unexpected exception: ' + (e && e.stack ? e.stack : e));
    console.log('NODE-FAILURES ' + (failures + 1));
    process.exit(1);
  });
}

module.exports = { check, run };
