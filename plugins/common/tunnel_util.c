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

#include "tunnel_util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

/*
 * Described in header
 */
bool tunnel_parse_u32(const char *str, uint64_t min, uint64_t max,
					  uint32_t *out)
{
	unsigned long long v;
	char *end;

	if (!str || !*str || *str == '-')
	{
		return FALSE;
	}
	errno = 0;
	v = strtoull(str, &end, 0);
	if (errno || *end || v < min || v > max)
	{
		return FALSE;
	}
	*out = v;
	return TRUE;
}

/*
 * Described in header
 */
bool tunnel_parse_yes_no(const char *value, bool *out)
{
	if (strcaseeq(value, "yes") || strcaseeq(value, "true") ||
		streq(value, "1"))
	{
		*out = TRUE;
		return TRUE;
	}
	if (strcaseeq(value, "no") || strcaseeq(value, "false") ||
		streq(value, "0"))
	{
		*out = FALSE;
		return TRUE;
	}
	return FALSE;
}

/*
 * Described in header
 */
bool tunnel_key_known(const char *key, const char **keys, int count)
{
	int i;

	for (i = 0; i < count; i++)
	{
		if (streq(key, keys[i]))
		{
			return TRUE;
		}
	}
	return FALSE;
}

/*
 * Described in header
 */
bool tunnel_parse_mark(const char *str, uint32_t *mark, uint32_t *mask)
{
	char buf[64], *slash;

	if (!str || strlen(str) >= sizeof(buf))
	{
		return FALSE;
	}
	strcpy(buf, str);
	slash = strchr(buf, '/');
	if (slash)
	{
		*slash = '\0';
		if (!tunnel_parse_u32(slash + 1, 1, 0xffffffff, mask))
		{
			return FALSE;
		}
	}
	if (!tunnel_parse_u32(buf, 1, 0xffffffff, mark))
	{
		return FALSE;
	}
	if (!slash)
	{	/* only our bits */
		*mask = *mark;
	}
	return (*mark & ~*mask) == 0;
}

/*
 * Described in header
 */
bool tunnel_route_mark_mask(settings_t *settings, const char *ns,
							uint32_t *mask)
{
	const char *str;
	uint32_t mark, m = TUNNEL_ROUTE_DEFAULT_MASK;

	str = settings->get_str(settings, "%s.plugins.tunnel-route.mark", NULL,
							ns);
	if (str && !tunnel_parse_mark(str, &mark, &m))
	{
		return FALSE;
	}
	*mask = m;
	return TRUE;
}

/*
 * Described in header
 */
const char *tunnel_parse_prefix(const char *str, uint32_t *addr,
								uint8_t *prefixlen)
{
	char buf[INET_ADDRSTRLEN], *end;
	const char *slash;
	struct in_addr in;
	unsigned long len = 32;
	size_t alen;

	if (!str || !*str)
	{
		return "empty value";
	}
	if (strchr(str, ':'))
	{
		return "IPv6 is not supported, only IPv4";
	}
	slash = strchr(str, '/');
	alen = slash ? (size_t)(slash - str) : strlen(str);
	if (alen == 0 || alen >= sizeof(buf))
	{
		return "not an IPv4 address";
	}
	memcpy(buf, str, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET, buf, &in) != 1)
	{
		return "not an IPv4 address";
	}
	if (slash)
	{
		if (!isdigit((unsigned char)slash[1]))
		{
			return "invalid prefix length";
		}
		errno = 0;
		len = strtoul(slash + 1, &end, 10);
		if (errno || *end || len > 32)
		{
			return "invalid prefix length";
		}
	}
	*addr = ntohl(in.s_addr);
	*prefixlen = len;
	if (*addr & ~tunnel_mask(len))
	{
		return "host bits are set, give the network address of the prefix";
	}
	return NULL;
}

/*
 * Described in header
 */
bool tunnel_nft_name_valid(const char *name)
{
	size_t i, len = strlen(name);

	if (!len || len > 64 || !isalpha((unsigned char)name[0]))
	{
		return FALSE;
	}
	for (i = 0; i < len; i++)
	{
		if (!isalnum((unsigned char)name[i]) && name[i] != '_')
		{
			return FALSE;
		}
	}
	return TRUE;
}

#define IP4(a) (a) >> 24, ((a) >> 16) & 0xff, ((a) >> 8) & 0xff, (a) & 0xff

/*
 * Described in header
 */
int tunnel_range_str(char *buf, size_t len, uint32_t from, uint32_t to)
{
	uint32_t size = to - from;
	int bits = 32;

	if (from == to)
	{
		return snprintf(buf, len, "%u.%u.%u.%u", IP4(from));
	}
	if (from == 0 && to == 0xffffffff)
	{
		return snprintf(buf, len, "0.0.0.0/0");
	}
	if (from <= to && ((size + 1) & size) == 0 && (from & size) == 0)
	{
		while (size)
		{
			size >>= 1;
			bits--;
		}
		return snprintf(buf, len, "%u.%u.%u.%u/%d", IP4(from), bits);
	}
	return snprintf(buf, len, "%u.%u.%u.%u-%u.%u.%u.%u", IP4(from), IP4(to));
}

/*
 * Described in header
 */
void tunnel_range_to_prefixes(uint32_t from, uint32_t to,
							  void (*cb)(void *data, uint32_t net, uint8_t len),
							  void *data)
{
	uint64_t cur = from, end = (uint64_t)to + 1, size;
	uint8_t len;

	while (cur < end)
	{
		/* the largest aligned block starting at cur that fits */
		len = 32;
		size = 1;
		while (len > 0 && (cur & ((size << 1) - 1)) == 0 &&
			   cur + (size << 1) <= end)
		{
			size <<= 1;
			len--;
		}
		cb(data, (uint32_t)cur, len);
		cur += size;
	}
}

/*
 * Described in header
 */
u_int tunnel_id_hash(const void *key)
{
	uintptr_t id = (uintptr_t)key;

	return chunk_hash(chunk_from_thing(id));
}

/*
 * Described in header
 */
bool tunnel_id_equals(const void *a, const void *b)
{
	return a == b;
}
