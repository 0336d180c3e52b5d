/*
 * Probe helper: append "ct zone set ipsec in reqid map @MAP" or
 * "meta mark set ipsec in reqid map @MAP" to an IPv4 table's chain.
 * nft 1.0.6 (Debian 12) cannot parse either statement (its grammar and its
 * JSON parser refuse an ipsec expression as a map key in a statement), so
 * the probe writes them through libnftnl, as the plugin would.
 *
 *   reqid_map_rule TABLE CHAIN zone|mark MAP
 *
 * Copyright (C) 2026 The tunnel-nat authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/xfrm.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>

static struct nftnl_rule *build(const char *table, const char *chain,
								const char *what, const char *map)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nftnl_expr *e;

	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_IPV4);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);

	e = nftnl_expr_alloc("xfrm");
	nftnl_expr_set_u32(e, NFTNL_EXPR_XFRM_DREG, NFT_REG32_00);
	nftnl_expr_set_u32(e, NFTNL_EXPR_XFRM_KEY, NFT_XFRM_KEY_REQID);
	nftnl_expr_set_u8(e, NFTNL_EXPR_XFRM_DIR, XFRM_POLICY_IN);
	nftnl_expr_set_u32(e, NFTNL_EXPR_XFRM_SPNUM, 0);
	nftnl_rule_add_expr(r, e);

	e = nftnl_expr_alloc("lookup");
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG32_00);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG32_00);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, map);
	nftnl_rule_add_expr(r, e);

	if (strcmp(what, "zone") == 0)
	{
		e = nftnl_expr_alloc("ct");
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_ZONE);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_SREG, NFT_REG32_00);
	}
	else
	{
		e = nftnl_expr_alloc("meta");
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_MARK);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, NFT_REG32_00);
	}
	nftnl_rule_add_expr(r, e);
	return r;
}

int main(int argc, char *argv[])
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_nlmsg_batch *batch;
	struct nftnl_rule *r;
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	uint32_t seq = time(NULL), portid;
	int ret;

	if (argc != 5 || (strcmp(argv[3], "zone") && strcmp(argv[3], "mark")))
	{
		fprintf(stderr, "usage: %s TABLE CHAIN zone|mark MAP\n", argv[0]);
		return 2;
	}
	r = build(argv[1], argv[2], argv[3], argv[4]);

	batch = mnl_nlmsg_batch_start(buf, sizeof(buf));
	nftnl_batch_begin(mnl_nlmsg_batch_current(batch), seq++);
	mnl_nlmsg_batch_next(batch);
	nlh = nftnl_rule_nlmsg_build_hdr(mnl_nlmsg_batch_current(batch),
			NFT_MSG_NEWRULE, NFPROTO_IPV4,
			NLM_F_APPEND | NLM_F_CREATE | NLM_F_ACK, seq++);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	mnl_nlmsg_batch_next(batch);
	nftnl_batch_end(mnl_nlmsg_batch_current(batch), seq++);
	mnl_nlmsg_batch_next(batch);
	nftnl_rule_free(r);

	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
	{
		perror("mnl_socket");
		return 1;
	}
	portid = mnl_socket_get_portid(nl);
	if (mnl_socket_sendto(nl, mnl_nlmsg_batch_head(batch),
						  mnl_nlmsg_batch_size(batch)) < 0)
	{
		perror("mnl_socket_sendto");
		return 1;
	}
	ret = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	while (ret > 0)
	{
		ret = mnl_cb_run(buf, ret, 0, portid, NULL, NULL);
		if (ret <= 0)
		{
			break;
		}
		ret = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	}
	if (ret < 0)
	{
		fprintf(stderr, "reqid_map_rule: %s %s %s @%s: %s\n", argv[1],
				argv[2], argv[3], argv[4], strerror(errno));
		mnl_socket_close(nl);
		return 1;
	}
	mnl_socket_close(nl);
	mnl_nlmsg_batch_stop(batch);
	return 0;
}
