/** Expressions that fail at run time, each a different way out of bounds: a kind that evaluates one must answer expression_failed. */
export const FAILING_EXPRESSIONS = [
  { name: '$error()', source: '$error("boom")' },
  { name: 'infinite tail recursion (time bound)', source: '($f := function($n) { $f($n + 1) }; $f(0))' },
  { name: 'deep recursion (depth bound)', source: '($f := function($n) { 1 + $f($n + 1) }; $f(0) > 0)' },
  { name: 'a huge sequence (size bound)', source: '$count([1..10000000]) > 0' },
  { name: 'a type error', source: '"a" + 1 = 2' },
];
