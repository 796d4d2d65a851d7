#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The classic group protocol (group.protocol=classic in kafka.properties,
# for brokers older than Kafka 4.0): two replicas split the partitions with
# cooperative-sticky (incremental) and store every critical event exactly
# once across the rebalance. Same test as the consumer protocol's.
export IT_GROUP_PROTOCOL=classic
exec "$(dirname "$0")/it_router_two_replicas_split_partitions.sh"
