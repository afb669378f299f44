/* lazy_libs.c - libcurl and libmicrohttpd are loaded on first use, not at process start.
 *
 * Linked normally, the two pull in ~30 shared libraries (GnuTLS, Kerberos, LDAP, RTMP, SSH,
 * nettle, p11-kit...) whose loading, relocation and constructors cost ~20 ms of CPU in every
 * lambdeck process, including the ones that never talk HTTP (`lambdeck build`, whose whole
 * no-change run is budgeted at 30 ms). So lambdeck is linked without them and this file
 * defines the functions the code base calls, each forwarding to the real library, which is
 * dlopen()ed (once, thread-safely) by the first call. Callers and headers are unchanged.
 * A function used for the first time must be added to the lists below (the link fails
 * until it is). A library that cannot be loaded is fatal with a message naming it, as a
 * missing library was at start before.
 *
 * The sonames come from CMake (LK_CURL_SONAME, LK_MHD_SONAME: the libraries pkg-config found).
 */
#define CURL_DISABLE_TYPECHECK /* curl.h would turn curl_easy_setopt into a macro */
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include <curl/curl.h>
#include <microhttpd.h>

#include "backend/util.h"

#ifndef LK_CURL_SONAME
#define LK_CURL_SONAME "libcurl.so.4"
#endif
#ifndef LK_MHD_SONAME
#define LK_MHD_SONAME "libmicrohttpd.so.12"
#endif

/* X(return type, name, parameters, arguments) for every forwarded non-variadic function;
 * V(...) the same for functions returning void. */
#define CURL_FUNCTIONS(X, V)                                                                       \
	X(CURLcode, curl_global_init, (long flags), (flags))                                       \
	X(CURL *, curl_easy_init, (void), ())                                                      \
	V(curl_easy_cleanup, (CURL * h), (h))                                                      \
	X(const char *, curl_easy_strerror, (CURLcode code), (code))                               \
	X(CURLM *, curl_multi_init, (void), ())                                                    \
	X(CURLMcode, curl_multi_add_handle, (CURLM * m, CURL * h), (m, h))                         \
	X(CURLMcode, curl_multi_remove_handle, (CURLM * m, CURL * h), (m, h))                      \
	X(CURLMcode, curl_multi_assign, (CURLM * m, curl_socket_t s, void *p), (m, s, p))          \
	X(CURLMcode, curl_multi_cleanup, (CURLM * m), (m))                                         \
	X(CURLMsg *, curl_multi_info_read, (CURLM * m, int *left), (m, left))                      \
	X(CURLMcode, curl_multi_socket_action,                                                     \
	  (CURLM * m, curl_socket_t s, int mask, int *running), (m, s, mask, running))             \
	X(const char *, curl_multi_strerror, (CURLMcode code), (code))                             \
	X(struct curl_slist *, curl_slist_append, (struct curl_slist * l, const char *s), (l, s))  \
	V(curl_slist_free_all, (struct curl_slist * l), (l))

#define MHD_FUNCTIONS(X, V)                                                                        \
	X(enum MHD_Result, MHD_add_response_header,                                                \
	  (struct MHD_Response * r, const char *header, const char *content),                      \
	  (r, header, content))                                                                    \
	X(struct MHD_Response *, MHD_create_response_from_buffer,                                  \
	  (size_t size, void *buffer, enum MHD_ResponseMemoryMode mode), (size, buffer, mode))     \
	X(struct MHD_Response *, MHD_create_response_from_callback,                                \
	  (uint64_t size, size_t block, MHD_ContentReaderCallback crc, void *cls,                  \
	   MHD_ContentReaderFreeCallback crfc),                                                    \
	  (size, block, crc, cls, crfc))                                                           \
	V(MHD_destroy_response, (struct MHD_Response * r), (r))                                    \
	X(int, MHD_get_connection_values,                                                          \
	  (struct MHD_Connection * c, enum MHD_ValueKind kind, MHD_KeyValueIterator it,            \
	   void *cls),                                                                             \
	  (c, kind, it, cls))                                                                      \
	X(enum MHD_Result, MHD_get_timeout, (struct MHD_Daemon * d, MHD_UNSIGNED_LONG_LONG * t),   \
	  (d, t))                                                                                  \
	X(const char *, MHD_lookup_connection_value,                                               \
	  (struct MHD_Connection * c, enum MHD_ValueKind kind, const char *key), (c, kind, key))   \
	X(enum MHD_Result, MHD_queue_response,                                                     \
	  (struct MHD_Connection * c, unsigned int status, struct MHD_Response *r),                \
	  (c, status, r))                                                                          \
	V(MHD_resume_connection, (struct MHD_Connection * c), (c))                                 \
	V(MHD_suspend_connection, (struct MHD_Connection * c), (c))                                \
	X(enum MHD_Result, MHD_run, (struct MHD_Daemon * d), (d))                                  \
	V(MHD_stop_daemon, (struct MHD_Daemon * d), (d))                                           \
	X(struct MHD_Daemon *, MHD_start_daemon_va,                                                \
	  (unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc, void *apc_cls,         \
	   MHD_AccessHandlerCallback dh, void *dh_cls, va_list ap),                                \
	  (flags, port, apc, apc_cls, dh, dh_cls, ap))

/* the variadic ones, called through pointers of their own type */
struct curl_table {
#define FIELD(ret, name, params, args) ret(*name) params;
#define VFIELD(name, params, args)     void(*name) params;
	CURL_FUNCTIONS(FIELD, VFIELD)
	CURLcode (*curl_easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*curl_easy_getinfo)(CURL *, CURLINFO, ...);
	CURLMcode (*curl_multi_setopt)(CURLM *, CURLMoption, ...);
};

struct mhd_table {
	MHD_FUNCTIONS(FIELD, VFIELD)
	const union MHD_DaemonInfo *(*MHD_get_daemon_info)(struct MHD_Daemon *,
	                                                   enum MHD_DaemonInfoType, ...);
#undef FIELD
#undef VFIELD
};

static struct curl_table curl_fn;
static struct mhd_table mhd_fn;
static pthread_once_t curl_once = PTHREAD_ONCE_INIT, mhd_once = PTHREAD_ONCE_INIT;

static void *open_lib(const char *soname, const char *package)
{
	void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);

	if (!h)
		lk_fatal("cannot load %s (%s); install %s", soname, dlerror(), package);
	return h;
}

static void *symbol(void *lib, const char *soname, const char *name)
{
	void *p = dlsym(lib, name);

	if (!p)
		lk_fatal("%s has no %s: %s", soname, name, dlerror());
	return p;
}

/* Function pointers travel through void * as dlsym returns them (POSIX guarantees this). */
#define LOAD(table, lib, soname, name)                                                             \
	memcpy(&table.name, &(void *){symbol(lib, soname, #name)}, sizeof(void *));

static void load_curl(void)
{
	void *lib = open_lib(LK_CURL_SONAME, "libcurl4");

#define X(ret, name, params, args) LOAD(curl_fn, lib, LK_CURL_SONAME, name)
#define V(name, params, args)      LOAD(curl_fn, lib, LK_CURL_SONAME, name)
	CURL_FUNCTIONS(X, V)
	LOAD(curl_fn, lib, LK_CURL_SONAME, curl_easy_setopt)
	LOAD(curl_fn, lib, LK_CURL_SONAME, curl_easy_getinfo)
	LOAD(curl_fn, lib, LK_CURL_SONAME, curl_multi_setopt)
#undef X
#undef V
}

static void load_mhd(void)
{
	void *lib = open_lib(LK_MHD_SONAME, "libmicrohttpd12");

#define X(ret, name, params, args) LOAD(mhd_fn, lib, LK_MHD_SONAME, name)
#define V(name, params, args)      LOAD(mhd_fn, lib, LK_MHD_SONAME, name)
	MHD_FUNCTIONS(X, V)
	LOAD(mhd_fn, lib, LK_MHD_SONAME, MHD_get_daemon_info)
#undef X
#undef V
}

#define X(ret, name, params, args)                                                                 \
	ret name params                                                                            \
	{                                                                                          \
		pthread_once(&curl_once, load_curl);                                               \
		return curl_fn.name args;                                                          \
	}
#define V(name, params, args)                                                                      \
	void name params                                                                           \
	{                                                                                          \
		pthread_once(&curl_once, load_curl);                                               \
		curl_fn.name args;                                                                 \
	}
CURL_FUNCTIONS(X, V)
#undef X
#undef V

#define X(ret, name, params, args)                                                                 \
	ret name params                                                                            \
	{                                                                                          \
		pthread_once(&mhd_once, load_mhd);                                                 \
		return mhd_fn.name args;                                                           \
	}
#define V(name, params, args)                                                                      \
	void name params                                                                           \
	{                                                                                          \
		pthread_once(&mhd_once, load_mhd);                                                 \
		mhd_fn.name args;                                                                  \
	}
MHD_FUNCTIONS(X, V)
#undef X
#undef V

/* An option's argument type follows from its number, as in curl's own setopt: long below
 * 10000, an object pointer below 20000, a function pointer below 30000, curl_off_t below
 * 40000, a blob pointer above. */
#define FORWARD_OPTION(fn, handle, option, ap)                                                     \
	((option) < CURLOPTTYPE_OBJECTPOINT     ? fn(handle, option, va_arg(ap, long))             \
	 : (option) < CURLOPTTYPE_FUNCTIONPOINT ? fn(handle, option, va_arg(ap, void *))           \
	 : (option) < CURLOPTTYPE_OFF_T         ? fn(handle, option, va_arg(ap, void (*)(void)))   \
	 : (option) < CURLOPTTYPE_BLOB          ? fn(handle, option, va_arg(ap, curl_off_t))       \
	                                        : fn(handle, option, va_arg(ap, void *)))

CURLcode curl_easy_setopt(CURL *h, CURLoption option, ...)
{
	va_list ap;
	CURLcode rc;

	pthread_once(&curl_once, load_curl);
	va_start(ap, option);
	rc = FORWARD_OPTION(curl_fn.curl_easy_setopt, h, option, ap);
	va_end(ap);
	return rc;
}

CURLMcode curl_multi_setopt(CURLM *m, CURLMoption option, ...)
{
	va_list ap;
	CURLMcode rc;

	pthread_once(&curl_once, load_curl);
	va_start(ap, option);
	rc = FORWARD_OPTION(curl_fn.curl_multi_setopt, m, option, ap);
	va_end(ap);
	return rc;
}

/* Every CURLINFO takes one pointer to where the answer goes. */
CURLcode curl_easy_getinfo(CURL *h, CURLINFO info, ...)
{
	va_list ap;
	void *out;

	pthread_once(&curl_once, load_curl);
	va_start(ap, info);
	out = va_arg(ap, void *);
	va_end(ap);
	return curl_fn.curl_easy_getinfo(h, info, out);
}

struct MHD_Daemon *MHD_start_daemon(unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc,
                                    void *apc_cls, MHD_AccessHandlerCallback dh, void *dh_cls, ...)
{
	va_list ap;
	struct MHD_Daemon *d;

	va_start(ap, dh_cls);
	d = MHD_start_daemon_va(flags, port, apc, apc_cls, dh, dh_cls, ap);
	va_end(ap);
	return d;
}

/* The info types lambdeck asks for take no further argument. */
const union MHD_DaemonInfo *MHD_get_daemon_info(struct MHD_Daemon *d, enum MHD_DaemonInfoType type,
                                                ...)
{
	pthread_once(&mhd_once, load_mhd);
	return mhd_fn.MHD_get_daemon_info(d, type);
}
