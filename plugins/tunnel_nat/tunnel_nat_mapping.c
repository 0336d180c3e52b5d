/*
 * Copyright (C) 2026 The tunnel-nat authors
 *
 * This program is free software; you can redistribute it and/or modify it
 * under the terms of the GNU General Public License as published by the
 * Free Software Foundation; either version 2 of the License, or (at your
 * option) any later version.  See <http://www.fsf.org/copyleft/gpl.txt>.
 *
 * This program is distributed in the hope that it will be useful, but
 * WITHOUT ANY WARRANTY; without even the implied warranty of MERCHANTABILITY
 * or FITNESS FOR A PARTICULAR PURPOSE.  See the GNU General Public License
 * for more details.
 */

#include "tunnel_nat_mapping.h"
#include "tunnel_nat_partner.h"

#include <tunnel_util.h>

#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>

#include <utils/debug.h>

/**
 * Log a configuration error, if logging is on
 */
#define CFG_LOG(log, fmt, ...) \
	do { if (log) { DBG1(DBG_CFG, fmt, ##__VA_ARGS__); } } while (0)

/**
 * Keys a mapping section may hold
 */
static const char *mapping_keys[] = { "child", "public", "private", "forward",
									   "pat", "remote", "alias" };

/*
 * Described in header
 */
void tunnel_nat_mapping_destroy(tunnel_nat_mapping_t *this)
{
	array_destroy_function(this->children, (void*)free, NULL);
	array_destroy_function(this->forwards, (void*)free, NULL);
	free(this->name);
	free(this);
}

/**
 * Check if a mapping lists a child already
 */
static bool has_child(tunnel_nat_mapping_t *map, const char *name)
{
	enumerator_t *enumerator;
	char *child;
	bool found = FALSE;

	enumerator = array_create_enumerator(map->children);
	while (!found && enumerator->enumerate(enumerator, &child))
	{
		found = streq(child, name);
	}
	enumerator->destroy(enumerator);
	return found;
}

/**
 * Parse a port, 1..65535
 */
static bool parse_port(const char *str, size_t len, uint16_t *port)
{
	char buf[8], *end;
	u_long v;

	if (!len || len >= sizeof(buf) || !isdigit((unsigned char)str[0]))
	{
		return FALSE;
	}
	memcpy(buf, str, len);
	buf[len] = 0;
	errno = 0;
	v = strtoul(buf, &end, 10);
	if (errno || *end || v < 1 || v > 65535)
	{
		return FALSE;
	}
	*port = v;
	return TRUE;
}

/**
 * Parse one port forward, "PORT[/tcp|/udp]:HOST[:PORT]" (tcp and the same
 * port by default); NULL or why it is invalid
 */
static const char *parse_forward(char *token, tunnel_nat_forward_t *fwd)
{
	char *colon, *slash, *host, *hport, buf[16];
	const char *err;
	uint8_t len;

	colon = strchr(token, ':');
	if (!colon)
	{
		return "expected PORT[/PROTO]:HOST[:PORT]";
	}
	slash = memchr(token, '/', colon - token);
	fwd->proto = IPPROTO_TCP;
	if (slash)
	{
		if (colon - slash - 1 == 3 && strneq(slash + 1, "tcp", 3))
		{
			fwd->proto = IPPROTO_TCP;
		}
		else if (colon - slash - 1 == 3 && strneq(slash + 1, "udp", 3))
		{
			fwd->proto = IPPROTO_UDP;
		}
		else
		{
			return "the protocol is tcp or udp";
		}
	}
	if (!parse_port(token, (slash ?: colon) - token, &fwd->port))
	{
		return "the public port is not a number from 1 to 65535";
	}
	host = colon + 1;
	hport = strchr(host, ':');
	if ((hport ? hport - host : strlen(host)) >= sizeof(buf))
	{
		return "the host is not an IPv4 address";
	}
	snprintf(buf, sizeof(buf), "%.*s", (int)(hport ? hport - host
											 : strlen(host)), host);
	err = tunnel_parse_prefix(buf, &fwd->host, &len);
	if (err || len != 32 || strchr(buf, '/'))
	{
		return "the host is not an IPv4 address";
	}
	fwd->host_port = fwd->port;
	if (hport && !parse_port(hport + 1, strlen(hport + 1), &fwd->host_port))
	{
		return "the host's port is not a number from 1 to 65535";
	}
	return NULL;
}

/**
 * Parse the port forwards of a mapping, FALSE if one is invalid (logged)
 */
static bool parse_forwards(tunnel_nat_mapping_t *map, const char *value,
						   bool log)
{
	tunnel_nat_forward_t fwd, *other, *copy;
	enumerator_t *tokens;
	const char *err;
	char *token;
	bool ok = TRUE;
	u_int i;

	tokens = enumerator_create_token(value, ",", " \t");
	while (ok && tokens->enumerate(tokens, &token))
	{
		err = parse_forward(token, &fwd);
		for (i = 0; !err && i < array_count(map->forwards); i++)
		{
			array_get(map->forwards, i, &other);
			if (other->proto == fwd.proto && other->port == fwd.port)
			{
				err = "the port is forwarded twice";
			}
		}
		if (err)
		{
			CFG_LOG(log, "tunnel-nat: mappings.%s.forward = '%s': '%s' is "
				 "invalid: %s; mapping '%s' skipped", map->name, value, token,
				 err, map->name);
			ok = FALSE;
			break;
		}
		copy = malloc_thing(tunnel_nat_forward_t);
		*copy = fwd;
		array_insert(map->forwards, ARRAY_TAIL, copy);
	}
	tokens->destroy(tokens);
	if (ok && !array_count(map->forwards))
	{
		CFG_LOG(log, "tunnel-nat: mappings.%s.forward = '%s' names no port; "
			 "mapping '%s' skipped", map->name, value, map->name);
		ok = FALSE;
	}
	return ok;
}

/*
 * Described in header
 */
tunnel_nat_mapping_t *tunnel_nat_mapping_parse(settings_t *settings,
											   const char *ns, char *name,
											   bool log)
{
	tunnel_nat_mapping_t *map;
	enumerator_t *enumerator, *tokens;
	char *key, *value, *child, *pub, *priv, *fwd, *pat;
	const char *err;
	uint8_t publen, privlen;
	bool ok = TRUE;

	enumerator = settings->create_key_value_enumerator(settings,
							"%s.plugins.tunnel-nat.mappings.%s", ns, name);
	while (enumerator->enumerate(enumerator, &key, &value))
	{
		if (!tunnel_key_known(key, mapping_keys, countof(mapping_keys)))
		{
			CFG_LOG(log, "tunnel-nat: unknown key mappings.%s.%s = '%s'; "
				 "mapping '%s' skipped", name, key, value, name);
			ok = FALSE;
		}
	}
	enumerator->destroy(enumerator);
	enumerator = settings->create_section_enumerator(settings,
							"%s.plugins.tunnel-nat.mappings.%s", ns, name);
	while (enumerator->enumerate(enumerator, &key))
	{
		CFG_LOG(log, "tunnel-nat: unknown section mappings.%s.%s; "
			 "mapping '%s' skipped", name, key, name);
		ok = FALSE;
	}
	enumerator->destroy(enumerator);
	if (!ok)
	{
		return NULL;
	}

	INIT(map,
		.name = strdup(name),
		.children = array_create(0, 1),
		.forwards = array_create(0, 0),
	);

	child = settings->get_str(settings, "%s.plugins.tunnel-nat.mappings.%s.child",
							  NULL, ns, name);
	if (child)
	{
		tokens = enumerator_create_token(child, ",", " \t");
		while (tokens->enumerate(tokens, &value))
		{
			if (!has_child(map, value))
			{
				array_insert(map->children, ARRAY_TAIL, strdup(value));
			}
		}
		tokens->destroy(tokens);
	}
	if (!array_count(map->children))
	{
		CFG_LOG(log, "tunnel-nat: mappings.%s.child = '%s' names no CHILD_SA "
			 "config; mapping '%s' skipped", name, child ?: "", name);
		tunnel_nat_mapping_destroy(map);
		return NULL;
	}

	if (!tunnel_nat_partner_parse(settings, ns, map, log))
	{
		tunnel_nat_mapping_destroy(map);
		return NULL;
	}
	pub = settings->get_str(settings, "%s.plugins.tunnel-nat.mappings.%s.public",
							NULL, ns, name);
	if (!pub && map->has_partner &&
		!settings->get_str(settings, "%s.plugins.tunnel-nat.mappings.%s.private",
						   NULL, ns, name) &&
		!settings->get_str(settings, "%s.plugins.tunnel-nat.mappings.%s.forward",
						   NULL, ns, name) &&
		!settings->get_str(settings, "%s.plugins.tunnel-nat.mappings.%s.pat",
						   NULL, ns, name))
	{	/* partner side only */
		map->partner_only = TRUE;
		return map;
	}
	err = tunnel_parse_prefix(pub, &map->pub, &publen);
	if (err)
	{
		CFG_LOG(log, "tunnel-nat: mappings.%s.public = '%s' is invalid: %s; "
			 "mapping '%s' skipped", name, pub ?: "", err, name);
		tunnel_nat_mapping_destroy(map);
		return NULL;
	}
	fwd = settings->get_str(settings, "%s.plugins.tunnel-nat.mappings.%s.forward",
							NULL, ns, name);
	if (fwd && !parse_forwards(map, fwd, log))
	{
		tunnel_nat_mapping_destroy(map);
		return NULL;
	}
	pat = settings->get_str(settings, "%s.plugins.tunnel-nat.mappings.%s.pat",
							NULL, ns, name);
	if (pat)
	{
		if (!tunnel_parse_yes_no(pat, &map->pat))
		{
			CFG_LOG(log, "tunnel-nat: mappings.%s.pat = '%s' is invalid: use "
				 "yes or no; mapping '%s' skipped", name, pat, name);
			tunnel_nat_mapping_destroy(map);
			return NULL;
		}
	}
	map->prefixlen = publen;
	priv = settings->get_str(settings, "%s.plugins.tunnel-nat.mappings.%s.private",
							 NULL, ns, name);
	if (!priv && array_count(map->forwards) && !map->pat)
	{	/* port forwards only */
		if (publen != 32)
		{
			CFG_LOG(log, "tunnel-nat: mappings.%s.public = '%s' is invalid "
				 "with forward and no private: port forwards need a single "
				 "address; mapping '%s' skipped", name, pub, name);
			tunnel_nat_mapping_destroy(map);
			return NULL;
		}
		return map;
	}
	err = tunnel_parse_prefix(priv, &map->priv, &privlen);
	if (err)
	{
		CFG_LOG(log, "tunnel-nat: mappings.%s.private = '%s' is invalid: %s; "
			 "mapping '%s' skipped", name, priv ?: "", err, name);
		tunnel_nat_mapping_destroy(map);
		return NULL;
	}
	map->has_private = TRUE;
	map->privlen = privlen;
	if (map->pat)
	{
		if (publen != 32)
		{
			CFG_LOG(log, "tunnel-nat: mappings.%s.public = '%s' is invalid "
				 "with pat = yes: many-to-one needs a single address; "
				 "mapping '%s' skipped", name, pub, name);
			tunnel_nat_mapping_destroy(map);
			return NULL;
		}
		return map;
	}
	if (array_count(map->forwards))
	{
		CFG_LOG(log, "tunnel-nat: mappings.%s.forward = '%s' needs pat = yes "
			 "or no private: a 1:1 mapping (private = '%s') forwards every "
			 "port; mapping '%s' skipped", name, fwd, priv, name);
		tunnel_nat_mapping_destroy(map);
		return NULL;
	}
	if (publen != privlen)
	{
		CFG_LOG(log, "tunnel-nat: mappings.%s: public = '%s' (/%u) and "
			 "private = '%s' (/%u) differ in size, a 1:1 mapping needs "
			 "prefixes of equal length (or pat = yes for many-to-one); "
			 "mapping '%s' skipped", name, pub, publen, priv, privlen, name);
		tunnel_nat_mapping_destroy(map);
		return NULL;
	}
	return map;
}

/*
 * Described in header
 */
bool tunnel_nat_mapping_elems(tunnel_nat_mapping_t *map, uint32_t local_from,
							  uint32_t local_to, uint32_t remote_from,
							  uint32_t remote_to, const char *comment,
							  array_t *elems)
{
	tunnel_nat_elem_t *dnat, *snat, *elem;
	tunnel_nat_forward_t *fwd;
	uint32_t hostmask, pub_last, from, to;
	u_int i;

	if (map->partner_only)
	{	/* partner side only: nothing on the P side */
		return TRUE;
	}
	hostmask = ~tunnel_mask(map->prefixlen);
	pub_last = map->pub | hostmask;
	/* the part of P the negotiated local selector covers */
	from = max(map->pub, local_from);
	to = min(pub_last, local_to);
	if (from > to)
	{
		return FALSE;
	}
	if (map->has_private && !map->pat)
	{	/* 1:1 */
		dnat = tunnel_nat_elem_add(elems, TUNNEL_NAT_DNAT, comment);
		dnat->src_from = remote_from;
		dnat->src_to = remote_to;
		dnat->dst_from = from;
		dnat->dst_to = to;
		dnat->nat_from = map->priv;
		dnat->nat_to = map->priv | hostmask;
		snat = tunnel_nat_elem_add(elems, TUNNEL_NAT_SNAT, comment);
		snat->src_from = map->priv | (from & hostmask);
		snat->src_to = map->priv | (to & hostmask);
		snat->dst_from = remote_from;
		snat->dst_to = remote_to;
		snat->nat_from = map->pub;
		snat->nat_to = pub_last;
		return TRUE;
	}
	if (map->pat)
	{	/* the private prefix leaves as P */
		elem = tunnel_nat_elem_add(elems, TUNNEL_NAT_PAT, comment);
		elem->src_from = map->priv;
		elem->src_to = map->priv | ~tunnel_mask(map->privlen);
		elem->dst_from = remote_from;
		elem->dst_to = remote_to;
		elem->nat_from = elem->nat_to = map->pub;
	}
	for (i = 0; i < array_count(map->forwards); i++)
	{
		array_get(map->forwards, i, &fwd);
		elem = tunnel_nat_elem_add(elems, TUNNEL_NAT_FWD, comment);
		elem->src_from = remote_from;
		elem->src_to = remote_to;
		elem->dst_from = elem->dst_to = map->pub;
		elem->proto = fwd->proto;
		elem->port = fwd->port;
		elem->nat_from = elem->nat_to = fwd->host;
		elem->nat_port = fwd->host_port;
	}
	/* whatever is not forwarded to P is refused */
	elem = tunnel_nat_elem_add(elems, TUNNEL_NAT_CLOSED, comment);
	elem->src_from = remote_from;
	elem->src_to = remote_to;
	elem->dst_from = elem->dst_to = map->pub;
	return TRUE;
}
