#ifndef SWIFTCARP_CURL_H
#define SWIFTCARP_CURL_H

// libcurl for the etcd guard's HTTP client, loaded with dlopen only when --etcd is given, so
// that an instance without it maps nothing new. <curl/curl.h> (libcurl4-openssl-dev) gives the
// types and constants; every function goes through the pointers swiftcarp_curl_load resolves,
// under a swiftcarp_ name: calling libcurl's own names would link libcurl.
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>
#include <stddef.h>

// Opens libcurl.so.4 (Debian's libcurl4) and resolves the functions below, once. 0 on success;
// else -1, with why in `error` (NUL-terminated, at most `size` bytes).
// 7.87.0: the oldest libcurl swiftcarp_curl_load accepts (CURLOPT_QUICK_EXIT, CURLOPT_PROTOCOLS_STR).
#define SWIFTCARP_CURL_MINIMUM_VERSION 0x075700

int swiftcarp_curl_load(char *error, size_t size);

CURLcode swiftcarp_curl_global_init(long flags);
CURLM *swiftcarp_curl_multi_init(void);
CURLMcode swiftcarp_curl_multi_cleanup(CURLM *multi);
const char *swiftcarp_curl_multi_strerror(CURLMcode code);
CURLMcode swiftcarp_curl_multi_add_handle(CURLM *multi, CURL *handle);
CURLMcode swiftcarp_curl_multi_remove_handle(CURLM *multi, CURL *handle);
CURLMcode swiftcarp_curl_multi_socket_action(CURLM *multi, curl_socket_t socket, int mask, int *running);
CURLMsg *swiftcarp_curl_multi_info_read(CURLM *multi, int *queued);
CURL *swiftcarp_curl_easy_init(void);
void swiftcarp_curl_easy_cleanup(CURL *handle);
const char *swiftcarp_curl_easy_strerror(CURLcode code);
struct curl_slist *swiftcarp_curl_slist_append(struct curl_slist *list, const char *text);
void swiftcarp_curl_slist_free_all(struct curl_slist *list);

// curl_easy_setopt, curl_multi_setopt and curl_easy_getinfo are variadic, which Swift cannot
// call: one typed wrapper per argument type the client passes.
CURLcode swiftcarp_curl_easy_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode swiftcarp_curl_easy_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode swiftcarp_curl_easy_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode swiftcarp_curl_easy_setopt_write_callback(CURL *handle, size_t (*callback)(char *, size_t, size_t, void *));
CURLcode swiftcarp_curl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLMcode swiftcarp_curl_multi_setopt_pointer(CURLM *multi, CURLMoption option, void *value);
CURLMcode swiftcarp_curl_multi_setopt_socket_callback(
    CURLM *multi, int (*callback)(CURL *, curl_socket_t, int, void *, void *));
CURLMcode swiftcarp_curl_multi_setopt_timer_callback(CURLM *multi, int (*callback)(CURLM *, long, void *));

// CURLMsg's result sits in a union.
static inline CURLcode swiftcarp_curl_msg_result(const CURLMsg *message) { return message->data.result; }

#endif
