/// The `--help` text: ucarp's, option for option, plus what SwiftCARP adds.
enum Usage {
    static let version = "0.1.0"

    static let text = """

        ucarp (SwiftCARP \(version)) - CARP failover, a drop-in for ucarp 1.5.2

        --interface=<if> (-i <if>): bind interface <if>
        --srcip=<ip> (-s <ip>): source (real) IP address of that host
        --mcast=<ip> (-m <ip>): multicast group IP address (default 224.0.0.18)
        --vhid=<id> (-v <id>): virtual IP identifier (1-255)
        --pass=<pass> (-p <pass>): password (at most 19 bytes)
        --passfile=<file> (-o <file>): read password from file (its first line)
        --preempt (-P): becomes a master as soon as possible
        --neutral (-n): don't run downscript at start if backup
        --addr=<ip> (-a <ip>): virtual shared IP address
        --help (-h): summary of command-line options
        --advbase=<seconds> (-b <seconds>): advertisement frequency (0-255)
        --advskew=<skew> (-k <skew>): advertisement skew (0-255)
        --upscript=<file> (-u <file>): run <file> to become a master
        --downscript=<file> (-d <file>): run <file> to become a backup
        --deadratio=<ratio> (-r <ratio>): ratio to consider a host as dead (1-255, default 3)
        --debug (-D): enable debug output
        --shutdown (-z): call shutdown script at exit
        --daemonize (-B): run in background
        --ignoreifstate (-S): ignore interface state (down, no carrier)
        --nomcast (-M): use broadcast (instead of multicast) advertisements
        --facility=<facility> (-f): set syslog facility (default=daemon, none disables syslog)
        --xparam=<value> (-x): extra parameter to send to up/down scripts

        Beyond ucarp 1.5.2:

        --version (-V): print the version and exit
        --pidfile=<file>: write the pid to <file>, locked while running, removed at exit
        --statefile=<file>: keep the current state in <file> (shell-sourceable)
        --script-timeout=<seconds>: kill a hung script after <seconds> (default 60, 0 = never)
        --config=<file>: read a vip-NNN.conf (and vip-common.conf beside it), see ucarp.conf(5)
        --peer=<ip>: send unicast advertisements to <ip> instead of multicast (repeatable)
        --addr=<ip> again: one more address of the same vhid, IPv4 or IPv6 (at most 255, each
          once); the scripts run once per address, in the order given
        --srcip=<IPv6 address>: advertise over IPv6 (to ff02::12, or to IPv6 --peer
          addresses); --mcast and --peer then take IPv6 addresses
        --check=<command>: health check (/bin/sh -c); failing, the instance goes FAULT
        --check-interval=<seconds>, --check-timeout=<seconds>: default 1, and the interval
        --check-fall=<n>, --check-rise=<n>: results in a row that change health (default 2)
        --notify=<command>: on every state change run <command> INSTANCE <name> <state> <prio>,
          keepalived's notify (MASTER, BACKUP, FAULT, and STOP when stopping)
        --name=<name>: the instance's name for --notify (default vhid<id>)
        --garp-repeat=<n>: gratuitous ARPs on becoming master (1-255, default 2)
        --garp-interval=<seconds>: between them (default: each with the 2nd advert after the last)
        --garp-refresh=<seconds>: one more every <seconds> while master (default 0 = never)
        --handover-wait=<seconds>: a master leaving on purpose (TERM with --shutdown, USR2, a
          failed check) keeps the address until the new master announces it, for at most
          <seconds> (default 2 x advbase, at least 1; 0 = release at once, as ucarp; not
          under --etcd: the down script first, then the lease revoked, then the advert)
        --preempt-delay=<seconds>: after start-up, --preempt waits <seconds> (0-3600) before
          taking the address from a less preferred master; a silent master is still replaced
        --cleanup: release the address if --statefile says the instance died holding it
                   (for ExecStopPost=; the same options as the instance)
        --reload: with the --config, --pidfile or --statefile of a running instance (or --all),
          make it read its command line and files again and re-execute the binary on disk,
          keeping the address and role (exit 0; 1 refused, the reason on stderr; 2 not found)
        --watchdog: in the foreground too, a supervising parent (as with --daemonize) that
          releases the address and restarts the instance when it dies (runit, containers)
        --no-sentinel: in the foreground, no sentinel process (by default a child that releases
          the address if the daemon is killed): ucarp's one process exactly
        --metrics-file=<file>: Prometheus metrics for node_exporter's textfile collector (*.prom)
        --etcd=<url>[,<url>...]: MASTER only while holding an etcd lease on the group's key
          (repeatable; http:// or https:// client URLs; every host of the group needs it;
          implies --shutdown)
        --etcd-prefix=<prefix>: the key is <prefix>/<vhid>/<address> (default /swiftcarp)
        --etcd-lock=<key>: the whole key instead
        --etcd-ttl=<seconds>: the lease's TTL (2-3600, default 3)
        --etcd-unreachable=release|keep: a master leaves when etcd stops answering (release,
          the default), or stays while CARP agrees (keep)
        --etcd-cacert=<file>, --etcd-cert=<file>, --etcd-key=<file>: TLS (PEM files)
        --etcd-user=<name>, --etcd-passfile=<file>: etcd user, password on the file's first line
        --auth=ucarp|strict: ucarp's wire (the default), or, when every peer is SwiftCARP,
          HMAC-SHA256 over the whole advert and its source with a counter that never goes back
        --auth-state=<file>: where --auth=strict keeps its counter's epoch and the peers'
          last counters (default beside --statefile, else the wall clock alone, nothing kept)
        --host-state=<dir>: where the host's instances keep their records and find maintenance
          (default /var/lib/ucarp)
        --group=<name>: instances of this host that move together: one demoted (no carrier, a
          failed check, USR2, send errors, maintenance) demotes all (advskew + 240, at most 240)
        --status [--json]: list the host's instances (from --host-state, or --config's HOST_STATE=)
        --maintenance[=on|off]: demote every instance of the host (or of --group) until off,
          across restarts and reboots; alone, print whether it is on

        Sample usage:

        Manage the 10.1.1.252 shared virtual address on interface eth0, with
        1 as a virtual address identifier, mypassword as a password, and
        10.1.1.1 as a real permanent address for this host.
        Call /etc/vip-up.sh when the host becomes a master, and
        /etc/vip-down.sh when the virtual IP address has to be disabled.

        ucarp --interface=eth0 --srcip=10.1.1.1 --vhid=1 --pass=mypassword \\
              --addr=10.1.1.252 \\
              --upscript=/etc/vip-up.sh --downscript=/etc/vip-down.sh

        Scripts are called as: <script> <interface> <virtual address> [<xparam>]
        with CARP_STATE, CARP_PREVIOUS_STATE, CARP_REASON and more in their environment.
        See ucarp(8) for signals, exit codes and the differences from ucarp 1.5.2.

        """
}
