#include "swiftcarp_curl.h"

#include <dlfcn.h>
#include <stdio.h>

// The libcurl functions the client uses, resolved by swiftcarp_curl_load.
static struct {
    CURLcode (*global_init)(long);
    CURLM *(*multi_init)(void);
    CURLMcode (*multi_cleanup)(CURLM *);
    const char *(*multi_strerror)(CURLMcode);
    CURLMcode (*multi_add_handle)(CURLM *, CURL *);
    CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
    CURLMcode (*multi_socket_action)(CURLM *, curl_socket_t, int, int *);
    CURLMsg *(*multi_info_read)(CURLM *, int *);
    CURLMcode (*multi_setopt)(CURLM *, CURLMoption, ...);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *);
    const char *(*easy_strerror)(CURLcode);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    curl_version_info_data *(*version_info)(CURLversion);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
} curl;

static int loaded;

#define RESOLVE(field, name)                                                                  \
    do {                                                                                      \
        *(void **)(&curl.field) = dlsym(library, name);                                       \
        if (curl.field == NULL) {                                                             \
            snprintf(error, size, "libcurl.so.4 has no %s: %s", name, dlerror());            \
            return -1;                                                                        \
        }                                                                                     \
    } while (0)

int swiftcarp_curl_load(char *error, size_t size) {
    if (loaded) return 0;
    void *library = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
        snprintf(error, size, "cannot load libcurl.so.4 (Debian's libcurl4): %s", dlerror());
        return -1;
    }
    RESOLVE(global_init, "curl_global_init");
    RESOLVE(multi_init, "curl_multi_init");
    RESOLVE(multi_cleanup, "curl_multi_cleanup");
    RESOLVE(multi_strerror, "curl_multi_strerror");
    RESOLVE(multi_add_handle, "curl_multi_add_handle");
    RESOLVE(multi_remove_handle, "curl_multi_remove_handle");
    RESOLVE(multi_socket_action, "curl_multi_socket_action");
    RESOLVE(multi_info_read, "curl_multi_info_read");
    RESOLVE(multi_setopt, "curl_multi_setopt");
    RESOLVE(easy_init, "curl_easy_init");
    RESOLVE(easy_cleanup, "curl_easy_cleanup");
    RESOLVE(easy_strerror, "curl_easy_strerror");
    RESOLVE(easy_setopt, "curl_easy_setopt");
    RESOLVE(easy_getinfo, "curl_easy_getinfo");
    RESOLVE(slist_append, "curl_slist_append");
    RESOLVE(slist_free_all, "curl_slist_free_all");
    RESOLVE(version_info, "curl_version_info");
    // CURLOPT_PROTOCOLS_STR came with 7.85, CURLOPT_QUICK_EXIT (a resolver that never holds
    // up the poll loop) with 7.87: an older library would fail every call, or block.
    const curl_version_info_data *version = curl.version_info(CURLVERSION_NOW);
    if (version == NULL || version->version_num < SWIFTCARP_CURL_MINIMUM_VERSION) {
        snprintf(error, size, "libcurl %s is too old: the etcd guard needs 7.87.0 or later",
            version != NULL && version->version != NULL ? version->version : "(unknown version)");
        return -1;
    }
    loaded = 1;
    return 0;
}

CURLcode swiftcarp_curl_global_init(long flags) { return curl.global_init(flags); }
CURLM *swiftcarp_curl_multi_init(void) { return curl.multi_init(); }
CURLMcode swiftcarp_curl_multi_cleanup(CURLM *multi) { return curl.multi_cleanup(multi); }
const char *swiftcarp_curl_multi_strerror(CURLMcode code) { return curl.multi_strerror(code); }
CURLMcode swiftcarp_curl_multi_add_handle(CURLM *multi, CURL *handle) { return curl.multi_add_handle(multi, handle); }

CURLMcode swiftcarp_curl_multi_remove_handle(CURLM *multi, CURL *handle) {
    return curl.multi_remove_handle(multi, handle);
}

CURLMcode swiftcarp_curl_multi_socket_action(CURLM *multi, curl_socket_t socket, int mask, int *running) {
    return curl.multi_socket_action(multi, socket, mask, running);
}

CURLMsg *swiftcarp_curl_multi_info_read(CURLM *multi, int *queued) { return curl.multi_info_read(multi, queued); }
CURL *swiftcarp_curl_easy_init(void) { return curl.easy_init(); }
void swiftcarp_curl_easy_cleanup(CURL *handle) { curl.easy_cleanup(handle); }
const char *swiftcarp_curl_easy_strerror(CURLcode code) { return curl.easy_strerror(code); }

struct curl_slist *swiftcarp_curl_slist_append(struct curl_slist *list, const char *text) {
    return curl.slist_append(list, text);
}

void swiftcarp_curl_slist_free_all(struct curl_slist *list) { curl.slist_free_all(list); }

CURLcode swiftcarp_curl_easy_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl.easy_setopt(handle, option, value);
}

CURLcode swiftcarp_curl_easy_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl.easy_setopt(handle, option, value);
}

CURLcode swiftcarp_curl_easy_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl.easy_setopt(handle, option, value);
}

CURLcode swiftcarp_curl_easy_setopt_write_callback(CURL *handle, size_t (*callback)(char *, size_t, size_t, void *)) {
    return curl.easy_setopt(handle, CURLOPT_WRITEFUNCTION, callback);
}

CURLcode swiftcarp_curl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl.easy_getinfo(handle, info, value);
}

CURLMcode swiftcarp_curl_multi_setopt_pointer(CURLM *multi, CURLMoption option, void *value) {
    return curl.multi_setopt(multi, option, value);
}

CURLMcode swiftcarp_curl_multi_setopt_socket_callback(
    CURLM *multi, int (*callback)(CURL *, curl_socket_t, int, void *, void *)) {
    return curl.multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, callback);
}

CURLMcode swiftcarp_curl_multi_setopt_timer_callback(CURLM *multi, int (*callback)(CURLM *, long, void *)) {
    return curl.multi_setopt(multi, CURLMOPT_TIMERFUNCTION, callback);
}
