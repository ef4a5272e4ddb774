#ifndef SWIFTCARP_CSYSTEMSHIMS_H
#define SWIFTCARP_CSYSTEMSHIMS_H

#include <stdint.h>
#include <signal.h>
#include <sys/types.h>

/// The interface's flags (SIOCGIFFLAGS) into *flags; 0, or -1 with errno set.
int swiftcarp_interface_flags(int socket_fd, const char *name, unsigned int *flags);

/// The interface's index (SIOCGIFINDEX) into *index, on a socket already open (if_nametoindex
/// opens and closes one at each call); 0, or -1 with errno set.
int swiftcarp_interface_index(int socket_fd, const char *name, unsigned int *index);

/// The interface's hardware address (SIOCGIFHWADDR) into mac[6] and its ARPHRD_ type into
/// *hardware_type; 0, or -1 with errno set.
int swiftcarp_interface_mac(int socket_fd, const char *name, uint8_t mac[6], unsigned int *hardware_type);

/// IP_ADD_MEMBERSHIP of `group` (host order) on the interface with index `ifindex`.
int swiftcarp_join_group(int socket_fd, uint32_t group, int ifindex);

/// IPV6_ADD_MEMBERSHIP of `group` (16 bytes, network order) on the interface with index `ifindex`.
int swiftcarp_join_group6(int socket_fd, const uint8_t group[16], int ifindex);

/// Whether the interface `name` has the IPv6 address `address` (getifaddrs): 1, 0, or -1
/// with errno set.
int swiftcarp_interface_has_ipv6(const char *name, const uint8_t address[16]);

/// IPV6_UNICAST_HOPS and IPV6_MULTICAST_HOPS 255, IPV6_TCLASS `traffic_class`; 0 or -1.
int swiftcarp_ipv6_socket_options(int socket_fd, int traffic_class);

/// bind to `address` (16 bytes), any port, scoped to `ifindex` (needed for a link-local one).
int swiftcarp_bind6(int socket_fd, const uint8_t address[16], int ifindex);

/// sendto `address` (16 bytes), scoped to `ifindex`.
ssize_t swiftcarp_sendto6(int socket_fd, const void *data, size_t length, const uint8_t address[16], int ifindex);

/// signalfd(-1, mask of the signals given, SFD_NONBLOCK | SFD_CLOEXEC) after blocking them.
int swiftcarp_signalfd(const int *signals, int count);

/// Reads one signal number from a signalfd; 0 when none is pending, -1 on error.
int swiftcarp_read_signal(int fd);

/// posix_spawn of `path` with `argv` (NULL-terminated), in a new process group, with every
/// signal unblocked and at its default disposition. Returns 0 or an errno value.
int swiftcarp_spawn(pid_t *pid, const char *path, char *const argv[], char *const envp[]);

/// The descriptor a sentinel started by swiftcarp_spawn_sentinel reads its daemon's pipe on.
#define SWIFTCARP_SENTINEL_PIPE 3

/// posix_spawn of a sentinel (`path`, `argv`, `envp`, NULL-terminated): the descriptor `pipe_fd`
/// becomes its SWIFTCARP_SENTINEL_PIPE, every other one above 2 is closed; it stays in our
/// process group, the signals of `held` blocked and every other at its default. posix_spawn
/// (vfork and exec) rather than fork: nothing of ours runs in the child before exec, so a
/// lock another thread held at the time (libcurl's, the allocator's) cannot hang it. Returns
/// 0 or an errno value.
int swiftcarp_spawn_sentinel(pid_t *pid, const char *path, char *const argv[], char *const envp[], int pipe_fd,
    const sigset_t *held);

/// prctl(PR_SET_CHILD_SUBREAPER, 1): orphans of our descendants become our children. 0 or -1.
int swiftcarp_become_subreaper(void);

/// IFF_RUNNING and IFF_UP, which Swift does not import as constants.
unsigned int swiftcarp_iff_running(void);
unsigned int swiftcarp_iff_up(void);
unsigned int swiftcarp_arphrd_ether(void);

/// socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE) bound to the
/// RTMGRP_LINK, RTMGRP_IPV4_IFADDR and RTMGRP_IPV6_IFADDR groups: the kernel's news of links and addresses.
/// The descriptor, or -1 with errno set (nothing left open).
int swiftcarp_route_netlink_socket(void);


/// The process's argc and argv as glibc handed them to the program's constructors (it passes
/// argc, argv and envp to every ELF constructor). Unlike the Swift runtime's copy, which it
/// may have to read from /proc/self/cmdline (absent in a chroot without /proc, or empty
/// under some preloaded libraries), this is always there, and it is the memory `ps` reads.
int swiftcarp_argc(void);
char **swiftcarp_argv(void);

// Reload in place (control.c).

/// socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC) bound at `path`.new, mode
/// 0600, listening, then renamed to `path` (replacing a stale file there). The descriptor, or
/// -1 with errno set.
int swiftcarp_control_listen(const char *path);

/// A blocking AF_UNIX stream connection to `path` (close-on-exec). The descriptor, or -1.
int swiftcarp_control_connect(const char *path);

/// accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC): the connection, or -1.
int swiftcarp_accept(int fd);

/// The uid of the process at the other end of a Unix socket (SO_PEERCRED); 0 or -1.
int swiftcarp_peer_uid(int fd, uid_t *uid);

/// memfd_create(name, 0): an anonymous file that survives execve. The descriptor, or -1.
int swiftcarp_memfd(const char *name);

/// execve(path, argv, environ); returns only on failure, -1 with errno set.
int swiftcarp_exec(const char *path, char *const argv[]);

/// execveat(fd, "", argv, environ, AT_EMPTY_PATH): the program of an open descriptor (the
/// old binary, held open before a re-exec). Returns only on failure, -1 with errno set.
int swiftcarp_exec_fd(int fd, char *const argv[]);

#endif
