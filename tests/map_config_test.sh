#!/usr/bin/env bash
# map_config_test.sh — `tallyd -t` on the map sections and `unmapped` of
# tallyd.conf: each refusal with its message at the file and line of its
# section (exit 1, no "config OK"), and good maps accepted (exit 0),
# including map sections in an included file.
#
# usage: map_config_test.sh TALLYD PLUGIN_DIR
# Each config lives in a private mktemp -d directory, removed at exit. The
# last line is "N passed, M failed"; the exit status is 1 if any failed.
set -u

TALLYD=${1:?usage: map_config_test.sh TALLYD PLUGIN_DIR}
PLUGINS=$(realpath "${2:?usage: map_config_test.sh TALLYD PLUGIN_DIR}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

source "$(dirname "${BASH_SOURCE[0]}")/check_lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/config_check_lib.sh"

# good NAME < BODY: header + BODY passes.
good() {
    local file="$work/$1.conf"
    { header; cat; } >"$file"
    check_t "$1" "$file" 0 "config OK"
}

bad unmapped_value 3 "unmapped 'maybe' is not one of keep" <<'EOF'
unmapped = "maybe"
EOF
bad glob_empty_part 3 'map "llm..tokens": the glob has an empty part' <<'EOF'
map "llm..tokens" { name = "llm_tokens_total" }
EOF
bad glob_partial_star 3 'map "llm.gpt*.tokens": the glob part "gpt*" mixes '"'*'"' with text' <<'EOF'
map "llm.gpt*.tokens" { name = "llm_tokens_total" }
EOF
bad no_name 4 'map "llm.*.tokens": the rule has no name' <<'EOF'
unmapped = "drop"
map "llm.*.tokens" { labels = {"model=$1"} }
EOF
bad bad_name 3 'map "llm.*.tokens": name "llm-tokens" is not a Prometheus metric name' <<'EOF'
map "llm.*.tokens" { name = "llm-tokens" labels = {"model=$1"} }
EOF
bad reserved_name 3 'map "llm.*.tokens": name "tally_tokens_total" starts with tally_, which the agent'"'"'s own families use' <<'EOF'
map "llm.*.tokens" { name = "tally_tokens_total" labels = {"model=$1"} }
EOF
bad label_no_eq 3 'map "llm.*.tokens": label "model" has no '"'='"'' <<'EOF'
map "llm.*.tokens" { name = "llm_tokens_total" labels = {"model"} }
EOF
bad label_bad_name 3 'map "llm.*.tokens": label name "the model" is not [a-zA-Z_][a-zA-Z0-9_]*' <<'EOF'
map "llm.*.tokens" { name = "llm_tokens_total" labels = {"the model=$1"} }
EOF
bad label_reserved 3 'map "llm.*.tokens": label name "__model" starts with __' <<'EOF'
map "llm.*.tokens" { name = "llm_tokens_total" labels = {"__model=$1"} }
EOF
bad label_twice 3 'map "llm.*.tokens": label "model" is given twice' <<'EOF'
map "llm.*.tokens" { name = "llm_tokens_total" labels = {"model=$1", "model=x$1"} }
EOF
bad label_empty 3 'map "llm.*.tokens": label "model=" has an empty value' <<'EOF'
map "llm.*.tokens" { name = "llm_tokens_total" labels = {"model="} }
EOF
bad star_out_of_range 3 "map \"llm.*.tokens\": label \"model=\$2\" uses \$2, but the glob's '*' are \$1..\$1" <<'EOF'
map "llm.*.tokens" { name = "llm_tokens_total" labels = {"model=$2"} }
EOF
bad dollar_alone 3 'map "llm.*.tokens": label "model=$x" has a '"'\$'"' without a number' <<'EOF'
map "llm.*.tokens" { name = "llm_tokens_total" labels = {"model=$x"} }
EOF
bad star_unused 3 "map \"llm.*.*\": '*' number 2 of the glob is in no label" <<'EOF'
map "llm.*.*" { name = "llm_tokens_total" labels = {"model=$1"} }
EOF
bad stars_joined 3 "map \"llm.*.*\": '*' number 1 of the glob is in no label (or only beside another \$N with no '.' between them)" <<'EOF'
map "llm.*.*" { name = "llm_tokens_total" labels = {"key=$1-$2"} }
EOF
bad same_templates 4 'map "gpu.*.tokens": name "llm_tokens_total" is also given by map "llm.*.tokens", and no label here can tell their series apart' <<'EOF'
map "llm.*.tokens" { name = "llm_tokens_total" labels = {"model=$1"} }
map "gpu.*.tokens" { name = "llm_tokens_total" labels = {"model=$1"} }
EOF
bad other_labels 4 'map "llm.*.cached": name "llm_tokens_total" has the labels (model, kind) here but (model) in map "llm.*.tokens": Prometheus needs one set of label names per metric' <<'EOF'
map "llm.*.tokens" { name = "llm_tokens_total" labels = {"model=$1"} }
map "llm.*.cached" { name = "llm_tokens_total" labels = {"model=$1", "kind=cached"} }
EOF
bad other_help 4 'map "llm.*.output": name "llm_tokens_total" has another help here than in map "llm.*.input"' <<'EOF'
map "llm.*.input" { name = "llm_tokens_total" labels = {"model=$1", "kind=input"} help = "Tokens." }
map "llm.*.output" { name = "llm_tokens_total" labels = {"model=$1", "kind=output"} help = "Others." }
EOF
bad glob_twice 4 "found duplicate title 'llm.*.tokens'; a map rule's glob is given twice, and the second would never match: remove one" <<'EOF'
map "llm.*.tokens" { name = "llm_tokens_total" labels = {"model=$1"} }
map "llm.*.tokens" { name = "other_total" labels = {"model=$1"} }
EOF
bad unknown_option 3 "no such option 'label'" <<'EOF'
map "llm.*.tokens" { name = "llm_tokens_total" label = {"model=$1"} }
EOF

# The pair's message names where the other rule is.
file="$work/pair_where.conf"
{ header; printf 'map "llm.*.tokens" { name = "t_total" labels = {"m=$1"} }\n\nmap "x.*" { name = "t_total" labels = {"m=$1"} }\n'; } >"$file"
check_t pair_names_the_other "$file" 1 "(map \"llm.*.tokens\" is at $file:3)"

good two_rules_one_family <<'EOF'
map "llm.*.input" { name = "llm_tokens_total" labels = {"model=$1", "kind=input"} help = "Tokens." }
map "llm.*.output" { name = "llm_tokens_total" labels = {"kind=output", "model=$1"} }
map "http.*.*.hits" { name = "http_hits" labels = {"route=/$1.$2", "cost=$$"} }
map "app.requests" { name = "app_requests_total" }
unmapped = "drop"
EOF
good dotted_apart <<'EOF'
map "llm.*.tokens" { name = "llm_tokens_total" labels = {"model=$1"} }
map "llm.*.*.tokens" { name = "llm_tokens_total" labels = {"model=$1.$2"} }
EOF

# Map sections in an included file are checked there, with its name.
inc="$work/maps.conf"
printf '\nmap "a.*" { name = "a_total" labels = {"x=$2"} }\n' >"$inc"
file="$work/include.conf"
{ header; printf 'include("%s")\n' "$inc"; } >"$file"
check_t included_file "$file" 1 "$inc:2: map \"a.*\": label \"x=\$2\" uses \$2"

totals
