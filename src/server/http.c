/* The HTTP layer (http.h) on libmicrohttpd. */
#include "server/http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "core/err.h"
#include "core/json.h"
#include "core/xalloc.h"

struct http_server {
	struct MHD_Daemon *d;
	struct http_server_opts o;
	char address[80];
};

#define HTTP_PRESIZE_MAX (1u << 20)

/* Per request: the body as it arrives. */
struct req_state {
	struct buf body;
	bool too_large;
};

const char *http_query(const struct http_request *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

struct query_all {
	const char *name;
	const char **out;
	size_t n, max;
};

static enum MHD_Result query_all_cb(void *arg, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct query_all *q = arg;

	if (key && !strcmp(key, q->name) && q->n < q->max)
		q->out[q->n++] = value ? value : "";
	return MHD_YES;
}

size_t http_query_all(const struct http_request *r, const char *name, const char **out, size_t max)
{
	struct query_all q = { name, out, 0, max };

	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, query_all_cb, &q);
	return q.n;
}

const char *http_header(const struct http_request *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *http_connect_code(int status)
{
	switch (status) {
	case 400: return "invalid_argument";
	case 401: return "unauthenticated";
	case 403: return "permission_denied";
	case 404: return "not_found";
	case 408: return "deadline_exceeded";
	case 409: return "aborted";
	case 413: return "invalid_argument"; /* Pyroscope's mapping (pyroscope.md 3.9) */
	case 415: return "invalid_argument";
	case 429: return "resource_exhausted";
	case 499: return "canceled";
	case 501: return "unimplemented";
	case 503: return "unavailable";
	case 504: return "deadline_exceeded";
	default: return "unknown";
	}
}

void http_error(struct http_response *res, int status, const char *fmt, ...)
{
	struct buf msg = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(&msg, fmt, ap);
	va_end(ap);
	res->status = status;
	res->content_type = "application/json";
	buf_reset(&res->body);
	buf_adds(&res->body, "{\"code\":");
	jw_escape(&res->body, http_connect_code(status), strlen(http_connect_code(status)));
	buf_adds(&res->body, ",\"message\":");
	jw_escape(&res->body, msg.buf, msg.len);
	buf_adds(&res->body, "}");
	buf_release(&msg);
}

static enum MHD_Result answer(struct http_server *s, struct MHD_Connection *conn, const char *url,
			      const char *method, struct req_state *st)
{
	struct http_request req = { method, url, (const unsigned char *)st->body.buf, st->body.len, st->too_large,
				    "", conn };
	struct http_response res = { .status = 200, .body = BUF_INIT };
	struct MHD_Response *r;
	enum MHD_Result ret;
	size_t len;
	char *body;

	if (st->too_large) {
		req.body = (const unsigned char *)"";
		req.body_len = 0;
	}
	s->o.handler(s->o.arg, &req, &res);
	body = buf_detach(&res.body, &len);
	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	if (res.content_type)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, res.content_type);
	if (res.retry_after)
		MHD_add_response_header(r, "Retry-After", res.retry_after);
	for (size_t i = 0; i < sizeof(res.headers) / sizeof(res.headers[0]) && res.headers[i][0]; i++)
		MHD_add_response_header(r, res.headers[i][0], res.headers[i][1]);
	if (res.etag[0])
		MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, res.etag);
	ret = MHD_queue_response(conn, (unsigned)res.status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	struct http_server *s = cls;
	struct req_state *st = *con_cls;

	if (!st) {
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		unsigned long long want = cl ? strtoull(cl, NULL, 10) : 0;

		st = xcalloc(1, sizeof(*st));
		/* A profile's body at once, not grown chunk by chunk (and copied each time) as it arrives. Only up
		 * to 1 MiB on the client's word: a connection that announces more and sends little holds no more. */
		buf_init(&st->body, want <= s->o.max_body && want <= HTTP_PRESIZE_MAX ? (size_t)want : 0);
		*con_cls = st;
		return MHD_YES;
	}
	if (*upload_data_size) {
		/* Past the limit the rest is read and dropped: the client gets its 413 once it has sent it all. */
		if (!st->too_large && st->body.len + *upload_data_size > s->o.max_body) {
			st->too_large = true;
			buf_release(&st->body);
		}
		if (!st->too_large)
			buf_add(&st->body, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	return answer(s, conn, url, method, st);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct req_state *st = *con_cls;

	if (st) {
		buf_release(&st->body);
		free(st);
		*con_cls = NULL;
	}
}

/* Parses "HOST:PORT", "[V6]:PORT" or ":PORT" into `ss`. */
static int parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *len, struct err *e)
{
	char host[64];
	const char *colon = strrchr(listen, ':');
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
	char *end;
	long port;
	size_t hl;

	memset(ss, 0, sizeof(*ss));
	if (!colon)
		return err_set(e, "'%s' is not HOST:PORT", listen);
	port = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || port < 0 || port > 65535)
		return err_set(e, "'%s' has no valid port", listen);
	hl = (size_t)(colon - listen);
	if (hl >= 2 && listen[0] == '[' && listen[hl - 1] == ']') {
		listen++;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		return err_set(e, "'%s': the host is too long", listen);
	memcpy(host, listen, hl);
	host[hl] = '\0';
	if (!hl || !strcmp(host, "*"))
		strcpy(host, "0.0.0.0");
	if (!strcmp(host, "localhost"))
		strcpy(host, "127.0.0.1");
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		*len = sizeof(*v4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*v6);
		return 0;
	}
	return err_set(e, "'%s' is not a numeric address", host);
}

static void bound_address(struct http_server *s)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_LISTEN_FD);
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (!info || getsockname(info->listen_fd, (struct sockaddr *)&ss, &len))
		return;
	if (ss.ss_family == AF_INET) {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof(host));
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		snprintf(s->address, sizeof(s->address), "%s:%u", host, port);
	} else {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof(host));
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		snprintf(s->address, sizeof(s->address), "[%s]:%u", host, port);
	}
}

struct http_server *http_start(const struct http_server_opts *o, struct err *e)
{
	struct http_server *s;
	struct sockaddr_storage ss;
	socklen_t len;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL;

	if (parse_listen(o->listen, &ss, &len, e))
		return NULL;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	s = xcalloc(1, sizeof(*s));
	s->o = *o;
	s->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				MHD_OPTION_CONNECTION_LIMIT, o->max_connections ? o->max_connections : 256,
				MHD_OPTION_CONNECTION_TIMEOUT, o->timeout_s ? o->timeout_s : 60,
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_END);
	if (!s->d) {
		err_set(e, "cannot listen on '%s' (in use, or not an address of this machine)", o->listen);
		free(s);
		return NULL;
	}
	bound_address(s);
	return s;
}

const char *http_address(const struct http_server *s)
{
	return s->address;
}

void http_stop(struct http_server *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->d);
	free(s);
}
