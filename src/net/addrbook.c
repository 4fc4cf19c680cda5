/*
 * addrbook.c — the peers to dial (net layer): configured peers (addresses
 * or names), the address book learned from peers (GET_ADDR / ADDR) and
 * persisted in DATADIR/peers.txt. Loop thread only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/net_internal.h"

#define LOG "net"

/*
 * A --peer: "HOST:PORT" where HOST is an IPv4 literal, "[IPv6]" or a DNS
 * name (letters, digits, '-', '.', '_'). *ip is set for an IPv4 literal
 * (and "localhost", which needs no resolver); otherwise host gets the text
 * to resolve (the IPv6 literal without brackets, or the name).
 */
int net_parse_peer(const char *s, uint32_t *ip, char host[HOST_MAX], uint16_t *port)
{
	const char *c = strrchr(s, ':');
	size_t hl;
	*ip = 0;
	host[0] = 0;
	if (!c) return SSP_ERR_INVAL;
	char *end;
	errno = 0;
	unsigned long pn = strtoul(c + 1, &end, 10);
	if (errno || *end || end == c + 1 || pn == 0 || pn > 65535) return SSP_ERR_INVAL;
	*port = (uint16_t)pn;
	if (s[0] == '[') { /* [IPv6]:PORT */
		uint8_t a6[16];
		hl = (size_t)(c - s);
		if (hl < 3 || s[hl - 1] != ']' || hl - 2 >= HOST_MAX) return SSP_ERR_INVAL;
		memcpy(host, s + 1, hl - 2);
		host[hl - 2] = 0;
		return uv_inet_pton(AF_INET6, host, a6) ? SSP_ERR_INVAL : 0;
	}
	hl = (size_t)(c - s);
	if (!hl || hl >= HOST_MAX) return SSP_ERR_INVAL;
	memcpy(host, s, hl);
	host[hl] = 0;
	struct in_addr a;
	if (!strcmp(host, "localhost") || inet_pton(AF_INET, host, &a) == 1) {
		*ip = strcmp(host, "localhost") ? ntohl(a.s_addr) : 0x7f000001u;
		host[0] = 0;
		return *ip ? 0 : SSP_ERR_INVAL;
	}
	for (size_t i = 0; i < hl; i++) {
		unsigned char ch = (unsigned char)host[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '-' || ch == '.' || ch == '_'))
			return SSP_ERR_INVAL;
	}
	return 0;
}

/* "A.B.C.D:PORT" or "localhost:PORT" (IPv4 only); empty host or "*" = any. */
int net_parse_hostport(const char *s, uint32_t *ip, uint16_t *port)
{
	char host[64];
	const char *c = strrchr(s, ':');
	if (!c || (size_t)(c - s) >= sizeof host) return SSP_ERR_INVAL;
	memcpy(host, s, (size_t)(c - s));
	host[c - s] = 0;
	char *end;
	errno = 0;
	unsigned long p = strtoul(c + 1, &end, 10);
	if (errno || *end || end == c + 1 || p > 65535) return SSP_ERR_INVAL;
	*port = (uint16_t)p;
	if (!host[0] || !strcmp(host, "*")) {
		*ip = 0;
		return 0;
	}
	if (!strcmp(host, "localhost")) snprintf(host, sizeof host, "127.0.0.1");
	struct in_addr a;
	if (inet_pton(AF_INET, host, &a) != 1) return SSP_ERR_INVAL;
	*ip = ntohl(a.s_addr);
	return 0;
}

target *net_target_add(ssp_net *n, uint32_t ip, uint16_t port, bool configured)
{
	target *free_t = NULL;
	for (size_t i = 0; i < MAX_TARGETS; i++) {
		target *t = &n->targets[i];
		if (t->used && t->ip == ip && t->port == port) {
			t->configured |= configured;
			return t;
		}
		if (!t->used && !free_t) free_t = t;
	}
	if (!free_t) return NULL;
	*free_t = (target){.ip = ip, .port = port, .configured = configured, .used = true};
	n->book_dirty = true;
	return free_t;
}

/* A configured peer given by name or IPv6 literal (one entry per host and port). */
target *net_target_add_host(ssp_net *n, const char *host, uint16_t port)
{
	target *free_t = NULL;
	for (size_t i = 0; i < MAX_TARGETS; i++) {
		target *t = &n->targets[i];
		if (t->used && t->port == port && !strcmp(t->host, host)) return t;
		if (!t->used && !free_t) free_t = t;
	}
	if (!free_t) return NULL;
	*free_t = (target){.port = port, .configured = true, .used = true};
	snprintf(free_t->host, sizeof free_t->host, "%s", host);
	return free_t;
}

void net_on_get_addr(peer *p)
{
	ssp_net *n = p->net;
	net_addr a[NET_ADDR_MAX];
	uint32_t k = 0;
	if (p->got_addr_req) {
		net_misbehave(p, 10, "repeated address request");
		return;
	}
	p->got_addr_req = true;
	for (size_t i = 0; i < MAX_TARGETS && k < NET_ADDR_MAX; i++) {
		target *t = &n->targets[i];
		if (t->used && !t->self && t->ip && t->port && t->fails < 3)
			a[k++] = (net_addr){t->ip, t->port};
	}
	ssp_buf b;
	ssp_buf_init(&b, 4 + 6 * NET_ADDR_MAX);
	net_addr_encode(&b, a, k);
	(void)net_send_buf(p, NET_ADDR, &b);
}

void net_on_addr(peer *p, const net_addr *a, uint32_t k)
{
	ssp_net *n = p->net;
	for (uint32_t i = 0; i < k; i++) {
		bool loopback = (a[i].ip >> 24) == 127;
		if (a[i].port == n->listen_port && (loopback || a[i].ip == n->listen_ip))
			continue; /* ourselves */
		net_target_add(n, a[i].ip, a[i].port, false);
	}
}

/* ---------------------------------------------------------- address book */

void net_book_load(ssp_net *n)
{
	FILE *f = fopen(n->book_path, "r");
	char line[128];
	if (!f) return;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\r\n")] = 0;
		uint32_t ip;
		uint16_t port;
		if (!net_parse_hostport(line, &ip, &port) && ip && port) net_target_add(n, ip, port, false);
	}
	fclose(f);
	n->book_dirty = false;
}

void net_book_save(ssp_net *n)
{
	char tmp[1200];
	if (!n->book_dirty) return;
	snprintf(tmp, sizeof tmp, "%s.tmp", n->book_path);
	FILE *f = fopen(tmp, "w");
	if (!f) return;
	for (size_t i = 0; i < MAX_TARGETS; i++) {
		target *t = &n->targets[i];
		char a[32];
		if (!t->used || t->self || !t->ip || t->host[0]) continue; /* names: from the config */
		net_ip_str(a, sizeof a, t->ip, t->port);
		fprintf(f, "%s\n", a);
	}
	if (fclose(f) == 0 && rename(tmp, n->book_path) == 0) n->book_dirty = false;
}
