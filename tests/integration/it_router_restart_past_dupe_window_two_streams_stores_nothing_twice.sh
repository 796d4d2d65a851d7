#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Exactly once past the duplicate window with the route's subjects split
# over two streams (officer commands in one, incident commands in the
# other, both with a 5 s window): the restarted router's look-up must read
# both. Otherwise the same as it_router_restart_past_dupe_window_stores_nothing_twice.sh
# (kill -9 right after publishing, restart 30 s later; nothing missing,
# nothing twice, each key in Kafka order), which it runs with IT_PW_STREAMS=2.
IT_PW_STREAMS=2 IT_PW_PORT=19234 exec bash "$(dirname "$0")/it_router_restart_past_dupe_window_stores_nothing_twice.sh"
