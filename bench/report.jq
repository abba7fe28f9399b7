# bench/report.jq: the markdown report of one bench/run.sh result file
# (jq -r -f bench/report.jq bench/results/<size>-<date>.json): medians,
# the ratio of each pair, issue 11's goal for it (warm and cold differ),
# and peak RSS. Kept apart
# from run.sh so that a result file can be re-rendered later.

def med($set; $name): first(($set // [])[] | select(.command == $name) | .median) // null;
def secs: if . == null then "–"
          elif . < 1 then "\(. * 1000 | round) ms"
          elif . < 10 then "\(. * 100 | round / 100) s"
          else "\(. * 10 | round / 10) s" end;
def times: if . == null then "–" else "\(. * 10 | round / 10)×" end;
def mb: if . == null then "–" else "\(. / 1024 * 10 | round / 10) MB" end;
def div($a; $b): if $a == null or $b == null or $b == 0 then null else $a / $b end;
def check($ok): if $ok == null then "" elif $ok then "met" else "**not met**" end;

# One comparison row. kind "speedup": ratio = reference / qsurgeon, goal is a
# minimum; kind "budget": ratio = qsurgeon / reference, goal is a maximum.
def row($task; $qs; $refname; $ref; $kind; $goal):
  (if $kind == "speedup" then div($ref; $qs) else div($qs; $ref) end) as $r
  | "| \($task) | \($qs | secs) | \($refname) | \($ref | secs) | "
    + (if $r == null then "–"
       elif $kind == "budget" then "\($r | times) of it"
       elif ($r * 10 | round) == 10 then "about the same"
       elif $r >= 1 then "\($r | times) faster"
       else "\(1 / $r | times) slower" end)
    + " | "
    + (if $goal == null then "" else
         (if $kind == "speedup" then "≥ \($goal)× faster" else "≤ \($goal)×" end)
         + " " + check(if $r == null then null
                       elif $kind == "speedup" then $r >= $goal else $r <= $goal end)
       end)
    + " |";

def table($set; $cold):
  med($set; "qsurgeon list --json") as $qj
  | med($set; "postqueue -j") as $pj
  | med($set; "qsurgeon list --sender X --ids") as $qsnd
  | med($set; "qsurgeon list --sasl-user X --ids") as $qsasl
  | med($set; "floor (open + read 4 KiB)") as $floor
  | med($set; "qsurgeon summary") as $qsum
  | med($set; "qsurgeon delete --sasl-user X") as $qdel
  | med($set; "postsuper -d - (same IDs)") as $ps
  | (med($set; "qsurgeon list --sasl-user X --ids (fresh copy)") // $qsasl) as $scan
  | "| task | qsurgeon | reference | reference time | ratio | goal (issue 11) |",
    "|---|---:|---|---:|---:|---|",
    row("`list --json`"; $qj; "`postqueue -j`"; $pj; "speedup"; (if $cold then null else 5 end)),
    (if $qsnd != null then
      row("`list --sender X --ids`"; $qsnd; "`postqueue -j`"; $pj; "speedup"; (if $cold then 6 else 10 end)),
      row("`list --sender X --ids`"; $qsnd; "`postqueue -j \\| jq`"; med($set; "postqueue -j | jq (sender X)"); "speedup"; null),
      row("`list --sender X --ids`"; $qsnd; "`postqueue -p \\| grep \\| awk`"; med($set; "postqueue -p | grep | awk (sender X)"); "speedup"; null),
      row("`list --sender X --ids`"; $qsnd; "floor (4 KiB reads)"; $floor; "budget"; (if $cold then 0.75 else 1.0 end))
     else empty end),
    row("`list --sasl-user X --ids`"; $qsasl; "`postqueue -j`"; $pj; "speedup"; (if $cold then 6 else 10 end)),
    row("`list --sasl-user X --ids`"; $qsasl; "`grep -rl sasl_username=X`"; med($set; "grep -rl sasl_username=X"); "speedup"; null),
    row("`list --sasl-user X --ids`"; $qsasl; "floor (4 KiB reads)"; $floor; "budget"; (if $cold then 0.75 else 1.0 end)),
    row("`summary` (every table, reads every defer log)"; $qsum; "`qshape` (all 4 queues)"; med($set; "qshape"); "speedup"; (if $cold then null else 10 end)),
    (if med($set; "qsurgeon summary (qshape's view)") != null then
      row("`summary --by recipient-domain --matrix recipient-domain` (qshape's view)"; med($set; "qsurgeon summary (qshape's view)"); "`qshape` (all 4 queues)"; med($set; "qshape"); "speedup"; (if $cold then null else 10 end))
     else empty end),
    (if $qdel != null then
      row("`delete --sasl-user X`"; $qdel; "`postqueue -p \\| grep \\| awk \\| postsuper -d -`"; med($set; "postqueue -p | grep | awk | postsuper -d -"); "speedup"; null),
      row("`delete --sasl-user X`"; $qdel; "`postsuper -d -` alone (same IDs)"; $ps; "speedup"; null),
      row("`delete --sasl-user X`"; $qdel; "`list --sasl-user X --ids` + `postsuper -d -`, both on a fresh copy"; (if $scan == null or $ps == null then null else $scan + $ps end); "budget"; 1.1)
     else empty end);

"### \(.size) messages (\(.date))",
"",
"\(.manifest.messages) complete messages (+\(.manifest.in_progress) in progress), \(.manifest.message_bytes / 1048576 | round) MB of messages, \(.manifest.defer_logs) defer logs; spammer `\(.spammer)`: \(.manifest.spammer.messages) messages; X = `\(.sender)` for `--sender`. "
  + "Machine: \(.machine.nproc) × \(.machine.cpu), \(.machine.mem_kb / 1048576 | round) GB RAM, Postfix \(.machine.postfix), qsurgeon \(.machine.qsurgeon_commit)\(if .machine.qsurgeon_dirty then "+changes" else "" end) (\(.profile) build\(if .profile == "dev" then ": times say nothing about speed" else "" end)). "
  + "Load average before \(.load_before), after \(.load_after). "
  + "postqueue -j and `list --json` agree: \(.postqueue_j_agrees). Mode: \(.mode).",
"",
"**Warm cache** (median of hyperfine runs):",
"",
table(.warm; false),
"",
(if (.cold // []) | length > 0 then
  "**Cold cache** (\(.cold_cache)):", "", table(.cold; true), ""
 else "Cold cache: \(.cold_cache).", "" end),
"**Peak RSS** (GNU time, largest process of the command):",
"",
"| command | peak RSS | goal |",
"|---|---:|---|",
(.rss_kb | to_entries[] |
  "| `\(.key | gsub("\\|"; "\\|"))` | \(.value | mb) | "
  + (if (.key | startswith("qsurgeon")) then "≤ 100 MB " + check(.value <= 102400) else "" end) + " |"),
""
