#define _GNU_SOURCE
#include "CSystemShims.h"

#include <errno.h>
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
    result = posix_spawn(pid, path, NULL, &attributes, argv, envp);
    posix_spawnattr_destroy(&attributes);
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
    address.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR;
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
