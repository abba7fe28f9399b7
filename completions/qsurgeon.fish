# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_qsurgeon_global_optspecs
    string join \n c/config-dir= queue-dir= instance= all-instances demo threads= h/help V/version
end

function __fish_qsurgeon_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_qsurgeon_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_qsurgeon_using_subcommand
    set -l cmd (__fish_qsurgeon_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c qsurgeon -n "__fish_qsurgeon_needs_command" -s c -l config-dir -d 'Postfix configuration directory of the instance (as `postconf -c`)' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_needs_command" -l queue-dir -d 'Read this queue directory directly, without asking postconf (default hashing: deferred and defer, depth 1)' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_needs_command" -l instance -d 'Work on this instance of a multi-instance Postfix (a name from `postmulti -l`)' -r
complete -c qsurgeon -n "__fish_qsurgeon_needs_command" -l threads -d 'Threads that read queue files [default: 2 per CPU, at least 32: on a cold cache the disk, not the CPU, sets the pace, and it needs many reads in flight]' -r
complete -c qsurgeon -n "__fish_qsurgeon_needs_command" -l all-instances -d 'Work on every instance `postmulti -l -a` lists; output names the instance'
complete -c qsurgeon -n "__fish_qsurgeon_needs_command" -l demo -d 'Work on a private copy of the built-in demo queue (real Postfix queue files, in a fresh 0700 directory under $TMPDIR, removed at exit): try the read-only commands without a Postfix queue. The verbs that change a queue are refused'
complete -c qsurgeon -n "__fish_qsurgeon_needs_command" -s h -l help -d 'Print help'
complete -c qsurgeon -n "__fish_qsurgeon_needs_command" -s V -l version -d 'Print version'
complete -c qsurgeon -n "__fish_qsurgeon_needs_command" -f -a "show" -d 'Print queue files as postcat does (byte for byte), or as JSON'
complete -c qsurgeon -n "__fish_qsurgeon_needs_command" -f -a "list" -d 'List selected messages like mailq / postqueue -p, or as JSON, IDs, CSV, a count'
complete -c qsurgeon -n "__fish_qsurgeon_needs_command" -f -a "summary" -d 'Who fills the queue: top senders, SASL users, clients, domains, reasons, ages'
complete -c qsurgeon -n "__fish_qsurgeon_needs_command" -f -a "hold" -d 'Put the selected messages on hold (postsuper -h)'
complete -c qsurgeon -n "__fish_qsurgeon_needs_command" -f -a "release" -d 'Release the selected held messages (postsuper -H)'
complete -c qsurgeon -n "__fish_qsurgeon_needs_command" -f -a "requeue" -d 'Requeue the selected messages: re-run address rewriting (postsuper -r)'
complete -c qsurgeon -n "__fish_qsurgeon_needs_command" -f -a "delete" -d 'Delete the selected messages (postsuper -d), optionally backing them up first'
complete -c qsurgeon -n "__fish_qsurgeon_needs_command" -f -a "expire" -d 'Force the selected messages to expire: bounce them at the next attempt (postsuper -e, -f in hold)'
complete -c qsurgeon -n "__fish_qsurgeon_needs_command" -f -a "flush" -d 'Deliver the selected messages now (postqueue -i)'
complete -c qsurgeon -n "__fish_qsurgeon_needs_command" -f -a "watch" -d 'A standing rule: hold or delete the selection\'s new mail as it arrives, for a while'
complete -c qsurgeon -n "__fish_qsurgeon_needs_command" -f -a "triage" -d 'Interactive, full screen: see who fills the queue, drill in, look at messages, mark, act'
complete -c qsurgeon -n "__fish_qsurgeon_needs_command" -f -a "restore" -d 'Re-inject the messages saved by `delete --backup DIR` (through postdrop)'
complete -c qsurgeon -n "__fish_qsurgeon_needs_command" -f -a "metrics" -d 'Prometheus metrics for node_exporter\'s textfile collector: per queue, ages, top senders'
complete -c qsurgeon -n "__fish_qsurgeon_needs_command" -f -a "check" -d 'A Nagios/Icinga plugin: queue size, oldest age, one SASL user/sender/client\'s burst'
complete -c qsurgeon -n "__fish_qsurgeon_needs_command" -f -a "generate" -d 'Write the man pages or the shell completions into DIR (for packagers)'
complete -c qsurgeon -n "__fish_qsurgeon_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand show" -s c -l config-dir -d 'Postfix configuration directory of the instance (as `postconf -c`)' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand show" -l queue-dir -d 'Read this queue directory directly, without asking postconf (default hashing: deferred and defer, depth 1)' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand show" -l instance -d 'Work on this instance of a multi-instance Postfix (a name from `postmulti -l`)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand show" -l threads -d 'Threads that read queue files [default: 2 per CPU, at least 32: on a cold cache the disk, not the CPU, sets the pace, and it needs many reads in flight]' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand show" -s b -d 'Show body content (from the first non-header line to the end)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand show" -s d -d 'Show the record type in decimal before each line'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand show" -s e -d 'Show envelope records (the default with -h and -b unset)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand show" -s h -d 'Show primary header lines'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand show" -s o -d 'Show the file offset of each record'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand show" -s q -d 'Arguments are queue IDs: search the queues as postcat -q does'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand show" -s v -d 'Show raw records: pointer and padding records, labelled text'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand show" -s r -d 'With -v: do not follow pointer records, and go on after the end record'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand show" -l json -d 'Print every record, decoded, as one JSON object per file'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand show" -l help -d 'Print help'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand show" -l all-instances -d 'Work on every instance `postmulti -l -a` lists; output names the instance'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand show" -l demo -d 'Work on a private copy of the built-in demo queue (real Postfix queue files, in a fresh 0700 directory under $TMPDIR, removed at exit): try the read-only commands without a Postfix queue. The verbs that change a queue are refused'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand show" -s V -l version -d 'Print version'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand list" -l queue -d 'In one of these queues (maildrop, incoming, active, deferred, hold, corrupt)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand list" -l id -d 'This queue ID (letters, digits, _; as mailq prints it, without its * ! # marker)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand list" -l ids-from -d 'One of the queue IDs in FILE (`-` for stdin): one per line, or postqueue -p output as is' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand list" -l sender -d 'Envelope sender: exact (domain case-insensitive), glob with * ?, or /regex/; <> is the null sender' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand list" -l sender-domain -d 'Sender domain' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand list" -l recipient -d 'A to-do recipient matches (see --all-recipients, --include-done)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand list" -l recipient-domain -d 'A to-do recipient\'s domain matches' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand list" -l sasl-user -d 'SASL login of the client that submitted the message (attribute sasl_username)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand list" -l sasl-method -d 'SASL mechanism (PLAIN, LOGIN…)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand list" -l client -d 'Client IP address or CIDR block (192.0.2.0/24, 2001:db8::/32); a glob or /regex/ matches its text' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand list" -l client-name -d 'Client host name' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand list" -l helo -d 'HELO/EHLO name' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand list" -l older-than -d 'Arrived more than this long ago; the unit is required: s m h d w (e.g. 2d, 1d12h)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand list" -l newer-than -d 'Arrived less than this long ago (unit required: s m h d w)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand list" -l larger-than -d 'Larger than this size; the unit is required: B K M G, 1024-based (e.g. 512B, 30K)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand list" -l smaller-than -d 'Smaller than this size (unit required: B K M G)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand list" -l min-recipients -d 'At least N envelope recipients, to do, done and canceled (Postfix\'s nrcpt; sendmail -t ones too)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand list" -l reason -d 'A delay reason in the defer log matches this regex' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand list" -l dsn-status -d 'A DSN status in the defer log (4.7.1, 4.7.*, 5.*)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand list" -l header -d 'A header test: \'Subject~regex\', \'X-Mailer=value\', \'Name!~regex\'' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand list" -l where -d 'An expression: \'age > 2d and (sasl_user = bob or client ~ /^203\\.0\\.113\\./)\'' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand list" -l sort -d 'Sort by: id, queue, arrival (age), size, sender, recipients' -r -f -a "id\t'Queue ID'
queue\t'Queue name, then ID'
arrival\t'Arrival time (oldest first)'
size\t'Message size'
sender\t'Sender address'
recipients\t'Number of to-do recipients'"
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand list" -l limit -d 'Stop after N messages' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand list" -l explain -d 'Explain, test by test, why message ID was or was not selected' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand list" -s c -l config-dir -d 'Postfix configuration directory of the instance (as `postconf -c`)' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand list" -l queue-dir -d 'Read this queue directory directly, without asking postconf (default hashing: deferred and defer, depth 1)' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand list" -l instance -d 'Work on this instance of a multi-instance Postfix (a name from `postmulti -l`)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand list" -l threads -d 'Threads that read queue files [default: 2 per CPU, at least 32: on a cold cache the disk, not the CPU, sets the pace, and it needs many reads in flight]' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand list" -l forced-expired -d 'Forced to expire (postsuper -e)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand list" -l null-sender -d 'The null sender (bounces)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand list" -l nonexistent-local-sender -d 'The sender is in one of our domains but no such local user or alias exists (forged)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand list" -l all-recipients -d 'Recipient tests need every to-do recipient to match, not any'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand list" -l include-done -d 'Recipient tests look at done recipients too'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand list" -l json -d 'One JSON object per message: postqueue -j\'s fields, then richer ones'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand list" -l ids -d 'Only the queue IDs, one per line'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand list" -l count -d 'Only the number of messages (and bytes) selected'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand list" -l csv -d 'CSV: queue, id, arrival, size, sender, sasl_username, client, recipients, recipient_count, todo_recipient_count'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand list" -s 0 -l null -d 'With --ids: end each ID with NUL instead of a newline'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand list" -l reverse -d 'Reverse the sort'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand list" -l with-headers -d 'Add subject and message_id to --json (reads the headers)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand list" -l all-instances -d 'Work on every instance `postmulti -l -a` lists; output names the instance'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand list" -l demo -d 'Work on a private copy of the built-in demo queue (real Postfix queue files, in a fresh 0700 directory under $TMPDIR, removed at exit): try the read-only commands without a Postfix queue. The verbs that change a queue are refused'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand list" -s V -l version -d 'Print version'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand summary" -l queue -d 'In one of these queues (maildrop, incoming, active, deferred, hold, corrupt)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand summary" -l id -d 'This queue ID (letters, digits, _; as mailq prints it, without its * ! # marker)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand summary" -l ids-from -d 'One of the queue IDs in FILE (`-` for stdin): one per line, or postqueue -p output as is' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand summary" -l sender -d 'Envelope sender: exact (domain case-insensitive), glob with * ?, or /regex/; <> is the null sender' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand summary" -l sender-domain -d 'Sender domain' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand summary" -l recipient -d 'A to-do recipient matches (see --all-recipients, --include-done)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand summary" -l recipient-domain -d 'A to-do recipient\'s domain matches' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand summary" -l sasl-user -d 'SASL login of the client that submitted the message (attribute sasl_username)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand summary" -l sasl-method -d 'SASL mechanism (PLAIN, LOGIN…)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand summary" -l client -d 'Client IP address or CIDR block (192.0.2.0/24, 2001:db8::/32); a glob or /regex/ matches its text' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand summary" -l client-name -d 'Client host name' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand summary" -l helo -d 'HELO/EHLO name' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand summary" -l older-than -d 'Arrived more than this long ago; the unit is required: s m h d w (e.g. 2d, 1d12h)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand summary" -l newer-than -d 'Arrived less than this long ago (unit required: s m h d w)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand summary" -l larger-than -d 'Larger than this size; the unit is required: B K M G, 1024-based (e.g. 512B, 30K)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand summary" -l smaller-than -d 'Smaller than this size (unit required: B K M G)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand summary" -l min-recipients -d 'At least N envelope recipients, to do, done and canceled (Postfix\'s nrcpt; sendmail -t ones too)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand summary" -l reason -d 'A delay reason in the defer log matches this regex' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand summary" -l dsn-status -d 'A DSN status in the defer log (4.7.1, 4.7.*, 5.*)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand summary" -l header -d 'A header test: \'Subject~regex\', \'X-Mailer=value\', \'Name!~regex\'' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand summary" -l where -d 'An expression: \'age > 2d and (sasl_user = bob or client ~ /^203\\.0\\.113\\./)\'' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand summary" -l by -d 'Dimensions to tabulate (repeatable); default: all of them' -r -f -a "queue\t'Queue name'
sasl-user\t'SASL login (sasl_username)'
sender\t'Envelope sender'
sender-domain\t'Envelope sender\'s domain'
client\t'Client IP address'
client-net\t'Client network (/24 for IPv4, /64 for IPv6)'
recipient-domain\t'Domains of the to-do recipients (a message counts once per domain)'
reason\t'Delay reasons from the defer log, with addresses and numbers masked'
dsn-status\t'DSN status codes from the defer log'"
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand summary" -l top -d 'Rows per table' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand summary" -l rank-by -d 'Rank each table\'s rows by messages, recipients (envelope recipients, as Postfix\'s nrcpt) or bytes' -r -f -a "messages\t'Most messages first'
recipients\t'Most envelope recipients first: a burst of few messages to many recipients ranks high'
bytes\t'Most bytes first'"
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand summary" -l matrix -d 'Also print a qshape-style matrix of age buckets by this dimension' -r -f -a "queue\t'Queue name'
sasl-user\t'SASL login (sasl_username)'
sender\t'Envelope sender'
sender-domain\t'Envelope sender\'s domain'
client\t'Client IP address'
client-net\t'Client network (/24 for IPv4, /64 for IPv6)'
recipient-domain\t'Domains of the to-do recipients (a message counts once per domain)'
reason\t'Delay reasons from the defer log, with addresses and numbers masked'
dsn-status\t'DSN status codes from the defer log'"
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand summary" -s c -l config-dir -d 'Postfix configuration directory of the instance (as `postconf -c`)' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand summary" -l queue-dir -d 'Read this queue directory directly, without asking postconf (default hashing: deferred and defer, depth 1)' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand summary" -l instance -d 'Work on this instance of a multi-instance Postfix (a name from `postmulti -l`)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand summary" -l threads -d 'Threads that read queue files [default: 2 per CPU, at least 32: on a cold cache the disk, not the CPU, sets the pace, and it needs many reads in flight]' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand summary" -l forced-expired -d 'Forced to expire (postsuper -e)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand summary" -l null-sender -d 'The null sender (bounces)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand summary" -l nonexistent-local-sender -d 'The sender is in one of our domains but no such local user or alias exists (forged)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand summary" -l all-recipients -d 'Recipient tests need every to-do recipient to match, not any'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand summary" -l include-done -d 'Recipient tests look at done recipients too'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand summary" -l json -d 'Print JSON instead of tables'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand summary" -l all-instances -d 'Work on every instance `postmulti -l -a` lists; output names the instance'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand summary" -l demo -d 'Work on a private copy of the built-in demo queue (real Postfix queue files, in a fresh 0700 directory under $TMPDIR, removed at exit): try the read-only commands without a Postfix queue. The verbs that change a queue are refused'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand summary" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand summary" -s V -l version -d 'Print version'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand hold" -l queue -d 'In one of these queues (maildrop, incoming, active, deferred, hold, corrupt)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand hold" -l id -d 'This queue ID (letters, digits, _; as mailq prints it, without its * ! # marker)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand hold" -l ids-from -d 'One of the queue IDs in FILE (`-` for stdin): one per line, or postqueue -p output as is' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand hold" -l sender -d 'Envelope sender: exact (domain case-insensitive), glob with * ?, or /regex/; <> is the null sender' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand hold" -l sender-domain -d 'Sender domain' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand hold" -l recipient -d 'A to-do recipient matches (see --all-recipients, --include-done)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand hold" -l recipient-domain -d 'A to-do recipient\'s domain matches' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand hold" -l sasl-user -d 'SASL login of the client that submitted the message (attribute sasl_username)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand hold" -l sasl-method -d 'SASL mechanism (PLAIN, LOGIN…)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand hold" -l client -d 'Client IP address or CIDR block (192.0.2.0/24, 2001:db8::/32); a glob or /regex/ matches its text' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand hold" -l client-name -d 'Client host name' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand hold" -l helo -d 'HELO/EHLO name' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand hold" -l older-than -d 'Arrived more than this long ago; the unit is required: s m h d w (e.g. 2d, 1d12h)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand hold" -l newer-than -d 'Arrived less than this long ago (unit required: s m h d w)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand hold" -l larger-than -d 'Larger than this size; the unit is required: B K M G, 1024-based (e.g. 512B, 30K)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand hold" -l smaller-than -d 'Smaller than this size (unit required: B K M G)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand hold" -l min-recipients -d 'At least N envelope recipients, to do, done and canceled (Postfix\'s nrcpt; sendmail -t ones too)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand hold" -l reason -d 'A delay reason in the defer log matches this regex' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand hold" -l dsn-status -d 'A DSN status in the defer log (4.7.1, 4.7.*, 5.*)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand hold" -l header -d 'A header test: \'Subject~regex\', \'X-Mailer=value\', \'Name!~regex\'' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand hold" -l where -d 'An expression: \'age > 2d and (sasl_user = bob or client ~ /^203\\.0\\.113\\./)\'' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand hold" -l max -d 'Refuse (exit 3, change nothing) when more than N messages are selected' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand hold" -l batch-size -d 'Queue IDs per postsuper process' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand hold" -l rate -d 'Pace the actions: at most N messages per second (release, requeue, flush)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand hold" -l journal -d 'Append the audit trail to FILE (JSON lines)' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand hold" -s c -l config-dir -d 'Postfix configuration directory of the instance (as `postconf -c`)' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand hold" -l queue-dir -d 'Read this queue directory directly, without asking postconf (default hashing: deferred and defer, depth 1)' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand hold" -l instance -d 'Work on this instance of a multi-instance Postfix (a name from `postmulti -l`)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand hold" -l threads -d 'Threads that read queue files [default: 2 per CPU, at least 32: on a cold cache the disk, not the CPU, sets the pace, and it needs many reads in flight]' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand hold" -l forced-expired -d 'Forced to expire (postsuper -e)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand hold" -l null-sender -d 'The null sender (bounces)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand hold" -l nonexistent-local-sender -d 'The sender is in one of our domains but no such local user or alias exists (forged)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand hold" -l all-recipients -d 'Recipient tests need every to-do recipient to match, not any'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand hold" -l include-done -d 'Recipient tests look at done recipients too'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand hold" -s y -l yes -d 'Act without asking. Needed when not on a terminal (cron)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand hold" -s n -l dry-run -d 'Scan and select, print what would be sent to postsuper, change nothing'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand hold" -l all -d 'Allow an empty selection (every message in the scanned queues)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand hold" -s q -l quiet -d 'Only errors and a one-line summary'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand hold" -l no-journal -d 'Keep no audit trail'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand hold" -l all-instances -d 'Work on every instance `postmulti -l -a` lists; output names the instance'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand hold" -l demo -d 'Work on a private copy of the built-in demo queue (real Postfix queue files, in a fresh 0700 directory under $TMPDIR, removed at exit): try the read-only commands without a Postfix queue. The verbs that change a queue are refused'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand hold" -s h -l help -d 'Print help'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand hold" -s V -l version -d 'Print version'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand release" -l queue -d 'In one of these queues (maildrop, incoming, active, deferred, hold, corrupt)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand release" -l id -d 'This queue ID (letters, digits, _; as mailq prints it, without its * ! # marker)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand release" -l ids-from -d 'One of the queue IDs in FILE (`-` for stdin): one per line, or postqueue -p output as is' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand release" -l sender -d 'Envelope sender: exact (domain case-insensitive), glob with * ?, or /regex/; <> is the null sender' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand release" -l sender-domain -d 'Sender domain' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand release" -l recipient -d 'A to-do recipient matches (see --all-recipients, --include-done)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand release" -l recipient-domain -d 'A to-do recipient\'s domain matches' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand release" -l sasl-user -d 'SASL login of the client that submitted the message (attribute sasl_username)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand release" -l sasl-method -d 'SASL mechanism (PLAIN, LOGIN…)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand release" -l client -d 'Client IP address or CIDR block (192.0.2.0/24, 2001:db8::/32); a glob or /regex/ matches its text' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand release" -l client-name -d 'Client host name' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand release" -l helo -d 'HELO/EHLO name' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand release" -l older-than -d 'Arrived more than this long ago; the unit is required: s m h d w (e.g. 2d, 1d12h)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand release" -l newer-than -d 'Arrived less than this long ago (unit required: s m h d w)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand release" -l larger-than -d 'Larger than this size; the unit is required: B K M G, 1024-based (e.g. 512B, 30K)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand release" -l smaller-than -d 'Smaller than this size (unit required: B K M G)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand release" -l min-recipients -d 'At least N envelope recipients, to do, done and canceled (Postfix\'s nrcpt; sendmail -t ones too)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand release" -l reason -d 'A delay reason in the defer log matches this regex' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand release" -l dsn-status -d 'A DSN status in the defer log (4.7.1, 4.7.*, 5.*)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand release" -l header -d 'A header test: \'Subject~regex\', \'X-Mailer=value\', \'Name!~regex\'' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand release" -l where -d 'An expression: \'age > 2d and (sasl_user = bob or client ~ /^203\\.0\\.113\\./)\'' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand release" -l max -d 'Refuse (exit 3, change nothing) when more than N messages are selected' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand release" -l batch-size -d 'Queue IDs per postsuper process' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand release" -l rate -d 'Pace the actions: at most N messages per second (release, requeue, flush)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand release" -l journal -d 'Append the audit trail to FILE (JSON lines)' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand release" -s c -l config-dir -d 'Postfix configuration directory of the instance (as `postconf -c`)' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand release" -l queue-dir -d 'Read this queue directory directly, without asking postconf (default hashing: deferred and defer, depth 1)' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand release" -l instance -d 'Work on this instance of a multi-instance Postfix (a name from `postmulti -l`)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand release" -l threads -d 'Threads that read queue files [default: 2 per CPU, at least 32: on a cold cache the disk, not the CPU, sets the pace, and it needs many reads in flight]' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand release" -l forced-expired -d 'Forced to expire (postsuper -e)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand release" -l null-sender -d 'The null sender (bounces)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand release" -l nonexistent-local-sender -d 'The sender is in one of our domains but no such local user or alias exists (forged)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand release" -l all-recipients -d 'Recipient tests need every to-do recipient to match, not any'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand release" -l include-done -d 'Recipient tests look at done recipients too'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand release" -s y -l yes -d 'Act without asking. Needed when not on a terminal (cron)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand release" -s n -l dry-run -d 'Scan and select, print what would be sent to postsuper, change nothing'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand release" -l all -d 'Allow an empty selection (every message in the scanned queues)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand release" -s q -l quiet -d 'Only errors and a one-line summary'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand release" -l no-journal -d 'Keep no audit trail'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand release" -l all-instances -d 'Work on every instance `postmulti -l -a` lists; output names the instance'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand release" -l demo -d 'Work on a private copy of the built-in demo queue (real Postfix queue files, in a fresh 0700 directory under $TMPDIR, removed at exit): try the read-only commands without a Postfix queue. The verbs that change a queue are refused'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand release" -s h -l help -d 'Print help'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand release" -s V -l version -d 'Print version'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand requeue" -l queue -d 'In one of these queues (maildrop, incoming, active, deferred, hold, corrupt)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand requeue" -l id -d 'This queue ID (letters, digits, _; as mailq prints it, without its * ! # marker)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand requeue" -l ids-from -d 'One of the queue IDs in FILE (`-` for stdin): one per line, or postqueue -p output as is' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand requeue" -l sender -d 'Envelope sender: exact (domain case-insensitive), glob with * ?, or /regex/; <> is the null sender' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand requeue" -l sender-domain -d 'Sender domain' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand requeue" -l recipient -d 'A to-do recipient matches (see --all-recipients, --include-done)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand requeue" -l recipient-domain -d 'A to-do recipient\'s domain matches' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand requeue" -l sasl-user -d 'SASL login of the client that submitted the message (attribute sasl_username)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand requeue" -l sasl-method -d 'SASL mechanism (PLAIN, LOGIN…)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand requeue" -l client -d 'Client IP address or CIDR block (192.0.2.0/24, 2001:db8::/32); a glob or /regex/ matches its text' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand requeue" -l client-name -d 'Client host name' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand requeue" -l helo -d 'HELO/EHLO name' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand requeue" -l older-than -d 'Arrived more than this long ago; the unit is required: s m h d w (e.g. 2d, 1d12h)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand requeue" -l newer-than -d 'Arrived less than this long ago (unit required: s m h d w)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand requeue" -l larger-than -d 'Larger than this size; the unit is required: B K M G, 1024-based (e.g. 512B, 30K)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand requeue" -l smaller-than -d 'Smaller than this size (unit required: B K M G)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand requeue" -l min-recipients -d 'At least N envelope recipients, to do, done and canceled (Postfix\'s nrcpt; sendmail -t ones too)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand requeue" -l reason -d 'A delay reason in the defer log matches this regex' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand requeue" -l dsn-status -d 'A DSN status in the defer log (4.7.1, 4.7.*, 5.*)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand requeue" -l header -d 'A header test: \'Subject~regex\', \'X-Mailer=value\', \'Name!~regex\'' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand requeue" -l where -d 'An expression: \'age > 2d and (sasl_user = bob or client ~ /^203\\.0\\.113\\./)\'' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand requeue" -l max -d 'Refuse (exit 3, change nothing) when more than N messages are selected' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand requeue" -l batch-size -d 'Queue IDs per postsuper process' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand requeue" -l rate -d 'Pace the actions: at most N messages per second (release, requeue, flush)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand requeue" -l journal -d 'Append the audit trail to FILE (JSON lines)' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand requeue" -s c -l config-dir -d 'Postfix configuration directory of the instance (as `postconf -c`)' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand requeue" -l queue-dir -d 'Read this queue directory directly, without asking postconf (default hashing: deferred and defer, depth 1)' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand requeue" -l instance -d 'Work on this instance of a multi-instance Postfix (a name from `postmulti -l`)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand requeue" -l threads -d 'Threads that read queue files [default: 2 per CPU, at least 32: on a cold cache the disk, not the CPU, sets the pace, and it needs many reads in flight]' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand requeue" -l forced-expired -d 'Forced to expire (postsuper -e)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand requeue" -l null-sender -d 'The null sender (bounces)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand requeue" -l nonexistent-local-sender -d 'The sender is in one of our domains but no such local user or alias exists (forged)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand requeue" -l all-recipients -d 'Recipient tests need every to-do recipient to match, not any'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand requeue" -l include-done -d 'Recipient tests look at done recipients too'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand requeue" -s y -l yes -d 'Act without asking. Needed when not on a terminal (cron)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand requeue" -s n -l dry-run -d 'Scan and select, print what would be sent to postsuper, change nothing'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand requeue" -l all -d 'Allow an empty selection (every message in the scanned queues)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand requeue" -s q -l quiet -d 'Only errors and a one-line summary'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand requeue" -l no-journal -d 'Keep no audit trail'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand requeue" -l all-instances -d 'Work on every instance `postmulti -l -a` lists; output names the instance'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand requeue" -l demo -d 'Work on a private copy of the built-in demo queue (real Postfix queue files, in a fresh 0700 directory under $TMPDIR, removed at exit): try the read-only commands without a Postfix queue. The verbs that change a queue are refused'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand requeue" -s h -l help -d 'Print help'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand requeue" -s V -l version -d 'Print version'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand delete" -l queue -d 'In one of these queues (maildrop, incoming, active, deferred, hold, corrupt)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand delete" -l id -d 'This queue ID (letters, digits, _; as mailq prints it, without its * ! # marker)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand delete" -l ids-from -d 'One of the queue IDs in FILE (`-` for stdin): one per line, or postqueue -p output as is' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand delete" -l sender -d 'Envelope sender: exact (domain case-insensitive), glob with * ?, or /regex/; <> is the null sender' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand delete" -l sender-domain -d 'Sender domain' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand delete" -l recipient -d 'A to-do recipient matches (see --all-recipients, --include-done)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand delete" -l recipient-domain -d 'A to-do recipient\'s domain matches' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand delete" -l sasl-user -d 'SASL login of the client that submitted the message (attribute sasl_username)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand delete" -l sasl-method -d 'SASL mechanism (PLAIN, LOGIN…)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand delete" -l client -d 'Client IP address or CIDR block (192.0.2.0/24, 2001:db8::/32); a glob or /regex/ matches its text' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand delete" -l client-name -d 'Client host name' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand delete" -l helo -d 'HELO/EHLO name' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand delete" -l older-than -d 'Arrived more than this long ago; the unit is required: s m h d w (e.g. 2d, 1d12h)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand delete" -l newer-than -d 'Arrived less than this long ago (unit required: s m h d w)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand delete" -l larger-than -d 'Larger than this size; the unit is required: B K M G, 1024-based (e.g. 512B, 30K)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand delete" -l smaller-than -d 'Smaller than this size (unit required: B K M G)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand delete" -l min-recipients -d 'At least N envelope recipients, to do, done and canceled (Postfix\'s nrcpt; sendmail -t ones too)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand delete" -l reason -d 'A delay reason in the defer log matches this regex' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand delete" -l dsn-status -d 'A DSN status in the defer log (4.7.1, 4.7.*, 5.*)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand delete" -l header -d 'A header test: \'Subject~regex\', \'X-Mailer=value\', \'Name!~regex\'' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand delete" -l where -d 'An expression: \'age > 2d and (sasl_user = bob or client ~ /^203\\.0\\.113\\./)\'' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand delete" -l max -d 'Refuse (exit 3, change nothing) when more than N messages are selected' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand delete" -l batch-size -d 'Queue IDs per postsuper process' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand delete" -l rate -d 'Pace the actions: at most N messages per second (release, requeue, flush)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand delete" -l journal -d 'Append the audit trail to FILE (JSON lines)' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand delete" -l backup -d 'Copy each queue file and its logs to DIR before deleting it (see `qsurgeon restore`)' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand delete" -s c -l config-dir -d 'Postfix configuration directory of the instance (as `postconf -c`)' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand delete" -l queue-dir -d 'Read this queue directory directly, without asking postconf (default hashing: deferred and defer, depth 1)' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand delete" -l instance -d 'Work on this instance of a multi-instance Postfix (a name from `postmulti -l`)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand delete" -l threads -d 'Threads that read queue files [default: 2 per CPU, at least 32: on a cold cache the disk, not the CPU, sets the pace, and it needs many reads in flight]' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand delete" -l forced-expired -d 'Forced to expire (postsuper -e)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand delete" -l null-sender -d 'The null sender (bounces)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand delete" -l nonexistent-local-sender -d 'The sender is in one of our domains but no such local user or alias exists (forged)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand delete" -l all-recipients -d 'Recipient tests need every to-do recipient to match, not any'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand delete" -l include-done -d 'Recipient tests look at done recipients too'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand delete" -s y -l yes -d 'Act without asking. Needed when not on a terminal (cron)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand delete" -s n -l dry-run -d 'Scan and select, print what would be sent to postsuper, change nothing'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand delete" -l all -d 'Allow an empty selection (every message in the scanned queues)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand delete" -s q -l quiet -d 'Only errors and a one-line summary'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand delete" -l no-journal -d 'Keep no audit trail'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand delete" -l all-instances -d 'Work on every instance `postmulti -l -a` lists; output names the instance'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand delete" -l demo -d 'Work on a private copy of the built-in demo queue (real Postfix queue files, in a fresh 0700 directory under $TMPDIR, removed at exit): try the read-only commands without a Postfix queue. The verbs that change a queue are refused'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand delete" -s h -l help -d 'Print help'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand delete" -s V -l version -d 'Print version'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand expire" -l queue -d 'In one of these queues (maildrop, incoming, active, deferred, hold, corrupt)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand expire" -l id -d 'This queue ID (letters, digits, _; as mailq prints it, without its * ! # marker)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand expire" -l ids-from -d 'One of the queue IDs in FILE (`-` for stdin): one per line, or postqueue -p output as is' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand expire" -l sender -d 'Envelope sender: exact (domain case-insensitive), glob with * ?, or /regex/; <> is the null sender' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand expire" -l sender-domain -d 'Sender domain' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand expire" -l recipient -d 'A to-do recipient matches (see --all-recipients, --include-done)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand expire" -l recipient-domain -d 'A to-do recipient\'s domain matches' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand expire" -l sasl-user -d 'SASL login of the client that submitted the message (attribute sasl_username)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand expire" -l sasl-method -d 'SASL mechanism (PLAIN, LOGIN…)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand expire" -l client -d 'Client IP address or CIDR block (192.0.2.0/24, 2001:db8::/32); a glob or /regex/ matches its text' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand expire" -l client-name -d 'Client host name' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand expire" -l helo -d 'HELO/EHLO name' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand expire" -l older-than -d 'Arrived more than this long ago; the unit is required: s m h d w (e.g. 2d, 1d12h)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand expire" -l newer-than -d 'Arrived less than this long ago (unit required: s m h d w)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand expire" -l larger-than -d 'Larger than this size; the unit is required: B K M G, 1024-based (e.g. 512B, 30K)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand expire" -l smaller-than -d 'Smaller than this size (unit required: B K M G)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand expire" -l min-recipients -d 'At least N envelope recipients, to do, done and canceled (Postfix\'s nrcpt; sendmail -t ones too)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand expire" -l reason -d 'A delay reason in the defer log matches this regex' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand expire" -l dsn-status -d 'A DSN status in the defer log (4.7.1, 4.7.*, 5.*)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand expire" -l header -d 'A header test: \'Subject~regex\', \'X-Mailer=value\', \'Name!~regex\'' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand expire" -l where -d 'An expression: \'age > 2d and (sasl_user = bob or client ~ /^203\\.0\\.113\\./)\'' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand expire" -l max -d 'Refuse (exit 3, change nothing) when more than N messages are selected' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand expire" -l batch-size -d 'Queue IDs per postsuper process' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand expire" -l rate -d 'Pace the actions: at most N messages per second (release, requeue, flush)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand expire" -l journal -d 'Append the audit trail to FILE (JSON lines)' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand expire" -s c -l config-dir -d 'Postfix configuration directory of the instance (as `postconf -c`)' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand expire" -l queue-dir -d 'Read this queue directory directly, without asking postconf (default hashing: deferred and defer, depth 1)' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand expire" -l instance -d 'Work on this instance of a multi-instance Postfix (a name from `postmulti -l`)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand expire" -l threads -d 'Threads that read queue files [default: 2 per CPU, at least 32: on a cold cache the disk, not the CPU, sets the pace, and it needs many reads in flight]' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand expire" -l forced-expired -d 'Forced to expire (postsuper -e)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand expire" -l null-sender -d 'The null sender (bounces)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand expire" -l nonexistent-local-sender -d 'The sender is in one of our domains but no such local user or alias exists (forged)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand expire" -l all-recipients -d 'Recipient tests need every to-do recipient to match, not any'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand expire" -l include-done -d 'Recipient tests look at done recipients too'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand expire" -s y -l yes -d 'Act without asking. Needed when not on a terminal (cron)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand expire" -s n -l dry-run -d 'Scan and select, print what would be sent to postsuper, change nothing'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand expire" -l all -d 'Allow an empty selection (every message in the scanned queues)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand expire" -s q -l quiet -d 'Only errors and a one-line summary'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand expire" -l no-journal -d 'Keep no audit trail'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand expire" -l all-instances -d 'Work on every instance `postmulti -l -a` lists; output names the instance'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand expire" -l demo -d 'Work on a private copy of the built-in demo queue (real Postfix queue files, in a fresh 0700 directory under $TMPDIR, removed at exit): try the read-only commands without a Postfix queue. The verbs that change a queue are refused'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand expire" -s h -l help -d 'Print help'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand expire" -s V -l version -d 'Print version'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand flush" -l queue -d 'In one of these queues (maildrop, incoming, active, deferred, hold, corrupt)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand flush" -l id -d 'This queue ID (letters, digits, _; as mailq prints it, without its * ! # marker)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand flush" -l ids-from -d 'One of the queue IDs in FILE (`-` for stdin): one per line, or postqueue -p output as is' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand flush" -l sender -d 'Envelope sender: exact (domain case-insensitive), glob with * ?, or /regex/; <> is the null sender' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand flush" -l sender-domain -d 'Sender domain' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand flush" -l recipient -d 'A to-do recipient matches (see --all-recipients, --include-done)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand flush" -l recipient-domain -d 'A to-do recipient\'s domain matches' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand flush" -l sasl-user -d 'SASL login of the client that submitted the message (attribute sasl_username)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand flush" -l sasl-method -d 'SASL mechanism (PLAIN, LOGIN…)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand flush" -l client -d 'Client IP address or CIDR block (192.0.2.0/24, 2001:db8::/32); a glob or /regex/ matches its text' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand flush" -l client-name -d 'Client host name' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand flush" -l helo -d 'HELO/EHLO name' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand flush" -l older-than -d 'Arrived more than this long ago; the unit is required: s m h d w (e.g. 2d, 1d12h)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand flush" -l newer-than -d 'Arrived less than this long ago (unit required: s m h d w)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand flush" -l larger-than -d 'Larger than this size; the unit is required: B K M G, 1024-based (e.g. 512B, 30K)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand flush" -l smaller-than -d 'Smaller than this size (unit required: B K M G)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand flush" -l min-recipients -d 'At least N envelope recipients, to do, done and canceled (Postfix\'s nrcpt; sendmail -t ones too)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand flush" -l reason -d 'A delay reason in the defer log matches this regex' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand flush" -l dsn-status -d 'A DSN status in the defer log (4.7.1, 4.7.*, 5.*)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand flush" -l header -d 'A header test: \'Subject~regex\', \'X-Mailer=value\', \'Name!~regex\'' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand flush" -l where -d 'An expression: \'age > 2d and (sasl_user = bob or client ~ /^203\\.0\\.113\\./)\'' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand flush" -l max -d 'Refuse (exit 3, change nothing) when more than N messages are selected' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand flush" -l batch-size -d 'Queue IDs per postsuper process' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand flush" -l rate -d 'Pace the actions: at most N messages per second (release, requeue, flush)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand flush" -l journal -d 'Append the audit trail to FILE (JSON lines)' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand flush" -s c -l config-dir -d 'Postfix configuration directory of the instance (as `postconf -c`)' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand flush" -l queue-dir -d 'Read this queue directory directly, without asking postconf (default hashing: deferred and defer, depth 1)' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand flush" -l instance -d 'Work on this instance of a multi-instance Postfix (a name from `postmulti -l`)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand flush" -l threads -d 'Threads that read queue files [default: 2 per CPU, at least 32: on a cold cache the disk, not the CPU, sets the pace, and it needs many reads in flight]' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand flush" -l forced-expired -d 'Forced to expire (postsuper -e)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand flush" -l null-sender -d 'The null sender (bounces)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand flush" -l nonexistent-local-sender -d 'The sender is in one of our domains but no such local user or alias exists (forged)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand flush" -l all-recipients -d 'Recipient tests need every to-do recipient to match, not any'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand flush" -l include-done -d 'Recipient tests look at done recipients too'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand flush" -s y -l yes -d 'Act without asking. Needed when not on a terminal (cron)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand flush" -s n -l dry-run -d 'Scan and select, print what would be sent to postsuper, change nothing'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand flush" -l all -d 'Allow an empty selection (every message in the scanned queues)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand flush" -s q -l quiet -d 'Only errors and a one-line summary'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand flush" -l no-journal -d 'Keep no audit trail'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand flush" -l all-instances -d 'Work on every instance `postmulti -l -a` lists; output names the instance'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand flush" -l demo -d 'Work on a private copy of the built-in demo queue (real Postfix queue files, in a fresh 0700 directory under $TMPDIR, removed at exit): try the read-only commands without a Postfix queue. The verbs that change a queue are refused'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand flush" -s h -l help -d 'Print help'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand flush" -s V -l version -d 'Print version'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand watch" -l backup -d 'With --delete: copy each queue file and its logs to DIR first (see `qsurgeon restore`)' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand watch" -l for -d 'Stop after this long (unit required: s m h d w, e.g. 30m, 2h, 1d)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand watch" -l every -d 'A round every DURATION: list the queues, read the files not seen yet, act on the matches' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand watch" -l max -d 'Refuse a round that selects more than N messages: nothing is done and the watch stops (exit 3)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand watch" -l batch-size -d 'Queue IDs per postsuper process' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand watch" -l journal -d 'Append the audit trail to FILE (JSON lines): one run per round that acted' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand watch" -l queue -d 'In one of these queues (maildrop, incoming, active, deferred, hold, corrupt)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand watch" -l id -d 'This queue ID (letters, digits, _; as mailq prints it, without its * ! # marker)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand watch" -l ids-from -d 'One of the queue IDs in FILE (`-` for stdin): one per line, or postqueue -p output as is' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand watch" -l sender -d 'Envelope sender: exact (domain case-insensitive), glob with * ?, or /regex/; <> is the null sender' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand watch" -l sender-domain -d 'Sender domain' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand watch" -l recipient -d 'A to-do recipient matches (see --all-recipients, --include-done)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand watch" -l recipient-domain -d 'A to-do recipient\'s domain matches' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand watch" -l sasl-user -d 'SASL login of the client that submitted the message (attribute sasl_username)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand watch" -l sasl-method -d 'SASL mechanism (PLAIN, LOGIN…)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand watch" -l client -d 'Client IP address or CIDR block (192.0.2.0/24, 2001:db8::/32); a glob or /regex/ matches its text' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand watch" -l client-name -d 'Client host name' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand watch" -l helo -d 'HELO/EHLO name' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand watch" -l older-than -d 'Arrived more than this long ago; the unit is required: s m h d w (e.g. 2d, 1d12h)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand watch" -l newer-than -d 'Arrived less than this long ago (unit required: s m h d w)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand watch" -l larger-than -d 'Larger than this size; the unit is required: B K M G, 1024-based (e.g. 512B, 30K)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand watch" -l smaller-than -d 'Smaller than this size (unit required: B K M G)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand watch" -l min-recipients -d 'At least N envelope recipients, to do, done and canceled (Postfix\'s nrcpt; sendmail -t ones too)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand watch" -l reason -d 'A delay reason in the defer log matches this regex' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand watch" -l dsn-status -d 'A DSN status in the defer log (4.7.1, 4.7.*, 5.*)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand watch" -l header -d 'A header test: \'Subject~regex\', \'X-Mailer=value\', \'Name!~regex\'' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand watch" -l where -d 'An expression: \'age > 2d and (sasl_user = bob or client ~ /^203\\.0\\.113\\./)\'' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand watch" -s c -l config-dir -d 'Postfix configuration directory of the instance (as `postconf -c`)' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand watch" -l queue-dir -d 'Read this queue directory directly, without asking postconf (default hashing: deferred and defer, depth 1)' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand watch" -l instance -d 'Work on this instance of a multi-instance Postfix (a name from `postmulti -l`)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand watch" -l threads -d 'Threads that read queue files [default: 2 per CPU, at least 32: on a cold cache the disk, not the CPU, sets the pace, and it needs many reads in flight]' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand watch" -l hold -d 'Put each new match on hold (postsuper -h)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand watch" -l delete -d 'Delete each new match (postsuper -d); see --backup'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand watch" -s y -l yes -d 'Start without asking. Needed when not on a terminal (systemd, cron); on a terminal without it, the first round\'s preview is shown and confirmed once'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand watch" -s n -l dry-run -d 'Each round, print what would be sent to postsuper; change nothing (try a rule)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand watch" -l all -d 'Allow an empty selection (every new message in the scanned queues)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand watch" -s q -l quiet -d 'Only errors and the closing summary (for systemd and cron)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand watch" -l no-journal -d 'Keep no audit trail'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand watch" -l forced-expired -d 'Forced to expire (postsuper -e)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand watch" -l null-sender -d 'The null sender (bounces)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand watch" -l nonexistent-local-sender -d 'The sender is in one of our domains but no such local user or alias exists (forged)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand watch" -l all-recipients -d 'Recipient tests need every to-do recipient to match, not any'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand watch" -l include-done -d 'Recipient tests look at done recipients too'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand watch" -l all-instances -d 'Work on every instance `postmulti -l -a` lists; output names the instance'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand watch" -l demo -d 'Work on a private copy of the built-in demo queue (real Postfix queue files, in a fresh 0700 directory under $TMPDIR, removed at exit): try the read-only commands without a Postfix queue. The verbs that change a queue are refused'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand watch" -s h -l help -d 'Print help'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand watch" -s V -l version -d 'Print version'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand triage" -l queue -d 'In one of these queues (maildrop, incoming, active, deferred, hold, corrupt)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand triage" -l id -d 'This queue ID (letters, digits, _; as mailq prints it, without its * ! # marker)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand triage" -l ids-from -d 'One of the queue IDs in FILE (`-` for stdin): one per line, or postqueue -p output as is' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand triage" -l sender -d 'Envelope sender: exact (domain case-insensitive), glob with * ?, or /regex/; <> is the null sender' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand triage" -l sender-domain -d 'Sender domain' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand triage" -l recipient -d 'A to-do recipient matches (see --all-recipients, --include-done)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand triage" -l recipient-domain -d 'A to-do recipient\'s domain matches' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand triage" -l sasl-user -d 'SASL login of the client that submitted the message (attribute sasl_username)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand triage" -l sasl-method -d 'SASL mechanism (PLAIN, LOGIN…)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand triage" -l client -d 'Client IP address or CIDR block (192.0.2.0/24, 2001:db8::/32); a glob or /regex/ matches its text' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand triage" -l client-name -d 'Client host name' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand triage" -l helo -d 'HELO/EHLO name' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand triage" -l older-than -d 'Arrived more than this long ago; the unit is required: s m h d w (e.g. 2d, 1d12h)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand triage" -l newer-than -d 'Arrived less than this long ago (unit required: s m h d w)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand triage" -l larger-than -d 'Larger than this size; the unit is required: B K M G, 1024-based (e.g. 512B, 30K)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand triage" -l smaller-than -d 'Smaller than this size (unit required: B K M G)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand triage" -l min-recipients -d 'At least N envelope recipients, to do, done and canceled (Postfix\'s nrcpt; sendmail -t ones too)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand triage" -l reason -d 'A delay reason in the defer log matches this regex' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand triage" -l dsn-status -d 'A DSN status in the defer log (4.7.1, 4.7.*, 5.*)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand triage" -l header -d 'A header test: \'Subject~regex\', \'X-Mailer=value\', \'Name!~regex\'' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand triage" -l where -d 'An expression: \'age > 2d and (sasl_user = bob or client ~ /^203\\.0\\.113\\./)\'' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand triage" -l journal -d 'Where actions taken during the session are journaled' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand triage" -l refresh -d 'Full screen: scan again every DURATION (e.g. 30s, 5m); each row shows its change since the last scan' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand triage" -s c -l config-dir -d 'Postfix configuration directory of the instance (as `postconf -c`)' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand triage" -l queue-dir -d 'Read this queue directory directly, without asking postconf (default hashing: deferred and defer, depth 1)' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand triage" -l instance -d 'Work on this instance of a multi-instance Postfix (a name from `postmulti -l`)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand triage" -l threads -d 'Threads that read queue files [default: 2 per CPU, at least 32: on a cold cache the disk, not the CPU, sets the pace, and it needs many reads in flight]' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand triage" -l forced-expired -d 'Forced to expire (postsuper -e)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand triage" -l null-sender -d 'The null sender (bounces)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand triage" -l nonexistent-local-sender -d 'The sender is in one of our domains but no such local user or alias exists (forged)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand triage" -l all-recipients -d 'Recipient tests need every to-do recipient to match, not any'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand triage" -l include-done -d 'Recipient tests look at done recipients too'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand triage" -l all-instances -d 'Work on every instance `postmulti -l -a` lists; output names the instance'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand triage" -l demo -d 'Work on a private copy of the built-in demo queue (real Postfix queue files, in a fresh 0700 directory under $TMPDIR, removed at exit): try the read-only commands without a Postfix queue. The verbs that change a queue are refused'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand triage" -s h -l help -d 'Print help'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand triage" -s V -l version -d 'Print version'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand restore" -s c -l config-dir -d 'Postfix configuration directory of the instance (as `postconf -c`)' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand restore" -l queue-dir -d 'Read this queue directory directly, without asking postconf (default hashing: deferred and defer, depth 1)' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand restore" -l instance -d 'Work on this instance of a multi-instance Postfix (a name from `postmulti -l`)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand restore" -l threads -d 'Threads that read queue files [default: 2 per CPU, at least 32: on a cold cache the disk, not the CPU, sets the pace, and it needs many reads in flight]' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand restore" -s n -l dry-run -d 'Print what would be re-injected, change nothing'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand restore" -s y -l yes -d 'Re-inject without asking. Needed when not on a terminal'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand restore" -l all-instances -d 'Work on every instance `postmulti -l -a` lists; output names the instance'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand restore" -l demo -d 'Work on a private copy of the built-in demo queue (real Postfix queue files, in a fresh 0700 directory under $TMPDIR, removed at exit): try the read-only commands without a Postfix queue. The verbs that change a queue are refused'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand restore" -s h -l help -d 'Print help'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand restore" -s V -l version -d 'Print version'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand metrics" -l output -d 'Write the metrics to FILE atomically (a temporary file in the same directory, synced, then renamed over FILE) instead of standard output' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand metrics" -l top -d 'Keys per top-N table (SASL user, sender domain, client network, recipient domain); the rest is counted in one `qsurgeon_top_other_*` sample' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand metrics" -s c -l config-dir -d 'Postfix configuration directory of the instance (as `postconf -c`)' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand metrics" -l queue-dir -d 'Read this queue directory directly, without asking postconf (default hashing: deferred and defer, depth 1)' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand metrics" -l instance -d 'Work on this instance of a multi-instance Postfix (a name from `postmulti -l`)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand metrics" -l threads -d 'Threads that read queue files [default: 2 per CPU, at least 32: on a cold cache the disk, not the CPU, sets the pace, and it needs many reads in flight]' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand metrics" -l all-instances -d 'Work on every instance `postmulti -l -a` lists; output names the instance'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand metrics" -l demo -d 'Work on a private copy of the built-in demo queue (real Postfix queue files, in a fresh 0700 directory under $TMPDIR, removed at exit): try the read-only commands without a Postfix queue. The verbs that change a queue are refused'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand metrics" -s h -l help -d 'Print help'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand metrics" -s V -l version -d 'Print version'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand check" -l warn-total -d 'WARNING when the queue holds more than N messages' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand check" -l crit-total -d 'CRITICAL when the queue holds more than N messages' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand check" -l warn-age -d 'WARNING when the oldest message is older than AGE (unit required: s m h d w)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand check" -l crit-age -d 'CRITICAL when the oldest message is older than AGE' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand check" -l window -d 'The per-user, per-sender and per-client thresholds count the messages that arrived within this window (unit required: s m h d w), held ones excepted' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand check" -l warn-per-user -d 'WARNING when one SASL user has more than N messages in the queue from within the window' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand check" -l crit-per-user -d 'CRITICAL when one SASL user has more than N messages from within the window' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand check" -l warn-per-sender -d 'WARNING when one envelope sender has more than N messages from within the window' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand check" -l crit-per-sender -d 'CRITICAL when one envelope sender has more than N messages from within the window' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand check" -l warn-per-client -d 'WARNING when one client IP address has more than N messages from within the window' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand check" -l crit-per-client -d 'CRITICAL when one client IP address has more than N messages from within the window' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand check" -s c -l config-dir -d 'Postfix configuration directory of the instance (as `postconf -c`)' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand check" -l queue-dir -d 'Read this queue directory directly, without asking postconf (default hashing: deferred and defer, depth 1)' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand check" -l instance -d 'Work on this instance of a multi-instance Postfix (a name from `postmulti -l`)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand check" -l threads -d 'Threads that read queue files [default: 2 per CPU, at least 32: on a cold cache the disk, not the CPU, sets the pace, and it needs many reads in flight]' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand check" -l all-instances -d 'Work on every instance `postmulti -l -a` lists; output names the instance'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand check" -l demo -d 'Work on a private copy of the built-in demo queue (real Postfix queue files, in a fresh 0700 directory under $TMPDIR, removed at exit): try the read-only commands without a Postfix queue. The verbs that change a queue are refused'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand check" -s h -l help -d 'Print help'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand check" -s V -l version -d 'Print version'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand generate" -s c -l config-dir -d 'Postfix configuration directory of the instance (as `postconf -c`)' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand generate" -l queue-dir -d 'Read this queue directory directly, without asking postconf (default hashing: deferred and defer, depth 1)' -r -F
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand generate" -l instance -d 'Work on this instance of a multi-instance Postfix (a name from `postmulti -l`)' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand generate" -l threads -d 'Threads that read queue files [default: 2 per CPU, at least 32: on a cold cache the disk, not the CPU, sets the pace, and it needs many reads in flight]' -r
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand generate" -l all-instances -d 'Work on every instance `postmulti -l -a` lists; output names the instance'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand generate" -l demo -d 'Work on a private copy of the built-in demo queue (real Postfix queue files, in a fresh 0700 directory under $TMPDIR, removed at exit): try the read-only commands without a Postfix queue. The verbs that change a queue are refused'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand generate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand generate" -s V -l version -d 'Print version'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand help; and not __fish_seen_subcommand_from show list summary hold release requeue delete expire flush watch triage restore metrics check generate help" -f -a "show" -d 'Print queue files as postcat does (byte for byte), or as JSON'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand help; and not __fish_seen_subcommand_from show list summary hold release requeue delete expire flush watch triage restore metrics check generate help" -f -a "list" -d 'List selected messages like mailq / postqueue -p, or as JSON, IDs, CSV, a count'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand help; and not __fish_seen_subcommand_from show list summary hold release requeue delete expire flush watch triage restore metrics check generate help" -f -a "summary" -d 'Who fills the queue: top senders, SASL users, clients, domains, reasons, ages'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand help; and not __fish_seen_subcommand_from show list summary hold release requeue delete expire flush watch triage restore metrics check generate help" -f -a "hold" -d 'Put the selected messages on hold (postsuper -h)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand help; and not __fish_seen_subcommand_from show list summary hold release requeue delete expire flush watch triage restore metrics check generate help" -f -a "release" -d 'Release the selected held messages (postsuper -H)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand help; and not __fish_seen_subcommand_from show list summary hold release requeue delete expire flush watch triage restore metrics check generate help" -f -a "requeue" -d 'Requeue the selected messages: re-run address rewriting (postsuper -r)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand help; and not __fish_seen_subcommand_from show list summary hold release requeue delete expire flush watch triage restore metrics check generate help" -f -a "delete" -d 'Delete the selected messages (postsuper -d), optionally backing them up first'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand help; and not __fish_seen_subcommand_from show list summary hold release requeue delete expire flush watch triage restore metrics check generate help" -f -a "expire" -d 'Force the selected messages to expire: bounce them at the next attempt (postsuper -e, -f in hold)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand help; and not __fish_seen_subcommand_from show list summary hold release requeue delete expire flush watch triage restore metrics check generate help" -f -a "flush" -d 'Deliver the selected messages now (postqueue -i)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand help; and not __fish_seen_subcommand_from show list summary hold release requeue delete expire flush watch triage restore metrics check generate help" -f -a "watch" -d 'A standing rule: hold or delete the selection\'s new mail as it arrives, for a while'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand help; and not __fish_seen_subcommand_from show list summary hold release requeue delete expire flush watch triage restore metrics check generate help" -f -a "triage" -d 'Interactive, full screen: see who fills the queue, drill in, look at messages, mark, act'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand help; and not __fish_seen_subcommand_from show list summary hold release requeue delete expire flush watch triage restore metrics check generate help" -f -a "restore" -d 'Re-inject the messages saved by `delete --backup DIR` (through postdrop)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand help; and not __fish_seen_subcommand_from show list summary hold release requeue delete expire flush watch triage restore metrics check generate help" -f -a "metrics" -d 'Prometheus metrics for node_exporter\'s textfile collector: per queue, ages, top senders'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand help; and not __fish_seen_subcommand_from show list summary hold release requeue delete expire flush watch triage restore metrics check generate help" -f -a "check" -d 'A Nagios/Icinga plugin: queue size, oldest age, one SASL user/sender/client\'s burst'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand help; and not __fish_seen_subcommand_from show list summary hold release requeue delete expire flush watch triage restore metrics check generate help" -f -a "generate" -d 'Write the man pages or the shell completions into DIR (for packagers)'
complete -c qsurgeon -n "__fish_qsurgeon_using_subcommand help; and not __fish_seen_subcommand_from show list summary hold release requeue delete expire flush watch triage restore metrics check generate help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
