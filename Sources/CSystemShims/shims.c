#define _GNU_SOURCE
#include "CSystemShims.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <ifaddrs.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <spawn.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

static int fill_name(struct ifreq *request, const char *name) {
    memset(request, 0, sizeof *request);
    if (strlen(name) >= sizeof request->ifr_name) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strncpy(request->ifr_name, name, sizeof request->ifr_name - 1);
    return 0;
}

int swiftcarp_interface_flags(int socket_fd, const char *name, unsigned int *flags) {
    struct ifreq request;
    if (fill_name(&request, name) != 0 || ioctl(socket_fd, SIOCGIFFLAGS, &request) != 0) {
        return -1;
    }
    *flags = (unsigned short) request.ifr_flags;
    return 0;
}

int swiftcarp_interface_index(int socket_fd, const char *name, unsigned int *index) {
    struct ifreq request;
    if (fill_name(&request, name) != 0 || ioctl(socket_fd, SIOCGIFINDEX, &request) != 0) {
        return -1;
    }
    *index = (unsigned int) request.ifr_ifindex;
    return 0;
}

int swiftcarp_interface_mac(int socket_fd, const char *name, uint8_t mac[6], unsigned int *hardware_type) {
    struct ifreq request;
    if (fill_name(&request, name) != 0 || ioctl(socket_fd, SIOCGIFHWADDR, &request) != 0) {
        return -1;
    }
    memcpy(mac, request.ifr_hwaddr.sa_data, 6);
    *hardware_type = request.ifr_hwaddr.sa_family;
    return 0;
}

int swiftcarp_join_group(int socket_fd, uint32_t group, int ifindex) {
    struct ip_mreqn request;
    memset(&request, 0, sizeof request);
    request.imr_multiaddr.s_addr = htonl(group);
    request.imr_ifindex = ifindex;
    return setsockopt(socket_fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &request, sizeof request);
}

int swiftcarp_join_group6(int socket_fd, const uint8_t group[16], int ifindex) {
    struct ipv6_mreq request;
    memset(&request, 0, sizeof request);
    memcpy(&request.ipv6mr_multiaddr, group, 16);
    request.ipv6mr_interface = (unsigned int)ifindex;
    return setsockopt(socket_fd, IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, &request, sizeof request);
}

int swiftcarp_interface_has_ipv6(const char *name, const uint8_t address[16]) {
    struct ifaddrs *addresses;
    if (getifaddrs(&addresses) != 0) {
        return -1;
    }
    int found = 0;
    for (struct ifaddrs *entry = addresses; entry != NULL; entry = entry->ifa_next) {
        if (entry->ifa_addr == NULL || entry->ifa_addr->sa_family != AF_INET6 || entry->ifa_name == NULL
            || strcmp(entry->ifa_name, name) != 0) {
            continue;
        }
        const struct sockaddr_in6 *ipv6 = (const struct sockaddr_in6 *)entry->ifa_addr;
        if (memcmp(&ipv6->sin6_addr, address, 16) == 0) {
            found = 1;
            break;
        }
    }
    freeifaddrs(addresses);
    return found;
}

int swiftcarp_ipv6_socket_options(int socket_fd, int traffic_class) {
    int hops = 255;
    if (setsockopt(socket_fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof hops) != 0
        || setsockopt(socket_fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof hops) != 0
        || setsockopt(socket_fd, IPPROTO_IPV6, IPV6_TCLASS, &traffic_class, sizeof traffic_class) != 0) {
        return -1;
    }
    return 0;
}

int swiftcarp_bind6(int socket_fd, const uint8_t address[16], int ifindex) {
    struct sockaddr_in6 local;
    memset(&local, 0, sizeof local);
    local.sin6_family = AF_INET6;
    memcpy(&local.sin6_addr, address, 16);
    local.sin6_scope_id = (uint32_t)ifindex;
    return bind(socket_fd, (const struct sockaddr *)&local, sizeof local);
}

ssize_t swiftcarp_sendto6(int socket_fd, const void *data, size_t length, const uint8_t address[16], int ifindex) {
    struct sockaddr_in6 destination;
    memset(&destination, 0, sizeof destination);
    destination.sin6_family = AF_INET6;
    memcpy(&destination.sin6_addr, address, 16);
    destination.sin6_scope_id = (uint32_t)ifindex;
    return sendto(socket_fd, data, length, 0, (const struct sockaddr *)&destination, sizeof destination);
}

int swiftcarp_signalfd(const int *signals, int count) {
    sigset_t mask;
    sigemptyset(&mask);
    for (int i = 0; i < count; i++) {
        sigaddset(&mask, signals[i]);
    }
    if (sigprocmask(SIG_BLOCK, &mask, NULL) != 0) {
        return -1;
    }
    return signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
}

int swiftcarp_read_signal(int fd) {
    struct signalfd_siginfo info;
    ssize_t got;
    do {
        got = read(fd, &info, sizeof info);
    } while (got < 0 && errno == EINTR);
    if (got < 0) {
        return errno == EAGAIN ? 0 : -1;
    }
    if (got != (ssize_t) sizeof info) {
        errno = EIO;
        return -1;
    }
    return (int) info.ssi_signo;
}

int swiftcarp_spawn(pid_t *pid, const char *path, char *const argv[], char *const envp[]) {
    posix_spawnattr_t attributes;
    sigset_t all, none;
    int result = posix_spawnattr_init(&attributes);
    if (result != 0) {
        return result;
    }
    sigfillset(&all);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&attributes, &all);
    posix_spawnattr_setsigmask(&attributes, &none);
    posix_spawnattr_setpgroup(&attributes, 0);
    posix_spawnattr_setflags(&attributes,
        POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);
    // Only standard input, output and error reach a script: libcurl's sockets (the etcd
    // guard), which it opens without FD_CLOEXEC, and anything else of ours stay behind.
    posix_spawn_file_actions_t actions;
    result = posix_spawn_file_actions_init(&actions);
    if (result != 0) {
        posix_spawnattr_destroy(&attributes);
        return result;
    }
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    result = posix_spawn(pid, path, &actions, &attributes, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    return result;
}

int swiftcarp_spawn_sentinel(pid_t *pid, const char *path, char *const argv[], char *const envp[], int pipe_fd,
    const sigset_t *held) {
    // The pipe becomes descriptor 3 of the new program (dup2 clears close-on-exec); one that is
    // 3 already is copied above it first, as a dup2 onto itself would leave the flag set.
    int source = pipe_fd;
    if (pipe_fd == SWIFTCARP_SENTINEL_PIPE) {
        source = fcntl(pipe_fd, F_DUPFD_CLOEXEC, SWIFTCARP_SENTINEL_PIPE + 1);
        if (source < 0) {
            return errno;
        }
    }
    posix_spawnattr_t attributes;
    sigset_t others;
    int result = posix_spawnattr_init(&attributes);
    if (result != 0) {
        if (source != pipe_fd) close(source);
        return result;
    }
    // Every signal at its default but those held, which stay blocked until the new program
    // ignores them (a group TERM meanwhile is then discarded, never acted on).
    sigfillset(&others);
    for (int number = 1; number < NSIG; number++) {
        if (sigismember(held, number) == 1) sigdelset(&others, number);
    }
    posix_spawnattr_setsigdefault(&attributes, &others);
    posix_spawnattr_setsigmask(&attributes, held);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    posix_spawn_file_actions_t actions;
    result = posix_spawn_file_actions_init(&actions);
    if (result != 0) {
        posix_spawnattr_destroy(&attributes);
        if (source != pipe_fd) close(source);
        return result;
    }
    posix_spawn_file_actions_adddup2(&actions, source, SWIFTCARP_SENTINEL_PIPE);
    posix_spawn_file_actions_addclosefrom_np(&actions, SWIFTCARP_SENTINEL_PIPE + 1);
    result = posix_spawn(pid, path, &actions, &attributes, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    if (source != pipe_fd) close(source);
    return result;
}

unsigned int swiftcarp_iff_running(void) { return IFF_RUNNING; }
unsigned int swiftcarp_iff_up(void) { return IFF_UP; }
unsigned int swiftcarp_arphrd_ether(void) { return ARPHRD_ETHER; }

int swiftcarp_route_netlink_socket(void) {
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) return -1;
    struct sockaddr_nl address;
    memset(&address, 0, sizeof address);
    address.nl_family = AF_NETLINK;
    address.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
    if (bind(fd, (struct sockaddr *)&address, sizeof address) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

static int captured_argc;
static char **captured_argv;

// glibc calls the constructors of the executable with (argc, argv, envp): see its
// csu/libc-start.c (static) and elf/dl-init.c (dynamic).
__attribute__((constructor)) static void swiftcarp_capture_arguments(int argc, char **argv, char **envp) {
    (void)envp;
    captured_argc = argc;
    captured_argv = argv;
}

int swiftcarp_argc(void) { return captured_argv == NULL ? 0 : captured_argc; }

char **swiftcarp_argv(void) { return captured_argv; }

int swiftcarp_become_subreaper(void) {
    return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}
