#define _GNU_SOURCE
#include "CSystemShims.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

extern char **environ;

static int fill_unix_address(struct sockaddr_un *address, const char *path) {
    memset(address, 0, sizeof *address);
    address->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof address->sun_path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(address->sun_path, path);
    return 0;
}

int swiftcarp_control_listen(const char *path) {
    // Bound and listening under a temporary name, then renamed over `path`: a client never
    // finds the name on a socket that does not listen yet (it removes such a name as left by
    // a killed instance).
    char temporary[sizeof ((struct sockaddr_un *)0)->sun_path];
    if (strlen(path) + 4 >= sizeof temporary) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(temporary, path);
    strcat(temporary, ".new");
    struct sockaddr_un address;
    if (fill_unix_address(&address, temporary) < 0) return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    unlink(temporary);
    mode_t old = umask(0077);
    int bound = bind(fd, (struct sockaddr *)&address, sizeof address);
    umask(old);
    if (bound < 0 || chmod(temporary, 0600) < 0 || listen(fd, 8) < 0 || rename(temporary, path) < 0) {
        int saved = errno;
        close(fd);
        if (bound == 0) unlink(temporary);
        errno = saved;
        return -1;
    }
    return fd;
}

int swiftcarp_control_connect(const char *path) {
    struct sockaddr_un address;
    if (fill_unix_address(&address, path) < 0) return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int result;
    do {
        result = connect(fd, (struct sockaddr *)&address, sizeof address);
    } while (result < 0 && errno == EINTR);
    if (result < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int swiftcarp_accept(int fd) { return accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC); }

int swiftcarp_peer_uid(int fd, uid_t *uid) {
    struct ucred credentials;
    socklen_t length = sizeof credentials;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) < 0) return -1;
    *uid = credentials.uid;
    return 0;
}

int swiftcarp_memfd(const char *name) { return (int)syscall(SYS_memfd_create, name, 0); }

int swiftcarp_exec(const char *path, char *const argv[]) { return execve(path, argv, environ); }

int swiftcarp_exec_fd(int fd, char *const argv[]) {
    return (int)syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
}
