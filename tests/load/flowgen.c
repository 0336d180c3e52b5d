/*
 * flowgen: rate of new UDP flows through a gateway, closed loop.
 *
 *   flowgen server PORT
 *       echo every datagram on PORT (any local address)
 *   flowgen client SRC BASE COUNT PORT SECONDS WINDOW
 *       keep WINDOW flows outstanding for SECONDS; each flow is a new socket
 *       from SRC (source ports cycle through 10000..59999) to one of COUNT
 *       destinations BASE, BASE+1, ... (round robin), one datagram and its
 *       echo; prints "<flows completed> <seconds> <flows per second>"
 *
 * Copyright (C) 2026 The tunnel-nat authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* echo each datagram from the address it was sent to (IP_PKTINFO) */
static int server(int port)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct sockaddr_in peer;
	char buf[64], cbuf[CMSG_SPACE(sizeof(struct in_pktinfo))];
	struct iovec iov = { .iov_base = buf };
	struct msghdr msg = {
		.msg_name = &peer,
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cbuf,
	};
	struct cmsghdr *cmsg;
	struct in_pktinfo *pi;
	ssize_t n;
	int fd, on = 1;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on)) < 0 ||
		bind(fd, (struct sockaddr*)&addr, sizeof(addr)) < 0)
	{
		perror("server");
		return 1;
	}
	for (;;)
	{
		msg.msg_namelen = sizeof(peer);
		msg.msg_controllen = sizeof(cbuf);
		iov.iov_len = sizeof(buf);
		n = recvmsg(fd, &msg, 0);
		if (n <= 0)
		{
			continue;
		}
		for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg))
		{
			if (cmsg->cmsg_level == IPPROTO_IP && cmsg->cmsg_type == IP_PKTINFO)
			{	/* answer from the address asked, on any interface */
				pi = (struct in_pktinfo*)CMSG_DATA(cmsg);
				pi->ipi_spec_dst = pi->ipi_addr;
				pi->ipi_ifindex = 0;
			}
		}
		iov.iov_len = n;
		sendmsg(fd, &msg, 0);
	}
}

static uint32_t next_port = 10000, next_dst;

/* open a new flow, -1 on failure */
static int flow(int ep, uint32_t src, uint32_t base, uint32_t count, int port)
{
	struct sockaddr_in from = { .sin_family = AF_INET }, to = { .sin_family = AF_INET };
	struct epoll_event ev = { .events = EPOLLIN };
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
	{
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	from.sin_addr.s_addr = src;
	from.sin_port = htons(next_port);
	next_port = next_port == 59999 ? 10000 : next_port + 1;
	to.sin_addr.s_addr = htonl(base + next_dst);
	to.sin_port = htons(port);
	next_dst = (next_dst + 1) % count;
	if (bind(fd, (struct sockaddr*)&from, sizeof(from)) < 0 ||
		connect(fd, (struct sockaddr*)&to, sizeof(to)) < 0 ||
		send(fd, "x", 1, 0) != 1)
	{
		close(fd);
		return -1;
	}
	ev.data.fd = fd;
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	return fd;
}

static int client(const char *src_s, const char *base_s, uint32_t count,
				  int port, double seconds, int window)
{
	struct epoll_event evs[256];
	struct in_addr src, base;
	double start, end;
	long done = 0, lost = 0;
	int ep, i, n, open = 0, fd;
	char buf[64];

	if (!inet_aton(src_s, &src) || !inet_aton(base_s, &base) || !count)
	{
		fprintf(stderr, "bad arguments\n");
		return 1;
	}
	ep = epoll_create1(0);
	start = now();
	end = start + seconds;
	while (now() < end)
	{
		while (open < window)
		{
			if (flow(ep, src.s_addr, ntohl(base.s_addr), count, port) < 0)
			{
				lost++;
				break;
			}
			open++;
		}
		n = epoll_wait(ep, evs, 256, 1000);
		if (n == 0)
		{	/* a whole second without an answer: count them as lost */
			fprintf(stderr, "flowgen: no answer for 1s (%d open)\n", open);
			return 1;
		}
		for (i = 0; i < n; i++)
		{
			fd = evs[i].data.fd;
			if (recv(fd, buf, sizeof(buf), 0) > 0)
			{
				done++;
			}
			close(fd);
			open--;
		}
	}
	seconds = now() - start;
	printf("%ld %.3f %.0f\n", done, seconds, done / seconds);
	return lost > done / 100;
}

int main(int argc, char *argv[])
{
	if (argc == 3 && !strcmp(argv[1], "server"))
	{
		return server(atoi(argv[2]));
	}
	if (argc == 8 && !strcmp(argv[1], "client"))
	{
		return client(argv[2], argv[3], strtoul(argv[4], NULL, 10),
					  atoi(argv[5]), atof(argv[6]), atoi(argv[7]));
	}
	fprintf(stderr, "usage: %s server PORT | client SRC BASE COUNT PORT "
			"SECONDS WINDOW\n", argv[0]);
	return 2;
}
