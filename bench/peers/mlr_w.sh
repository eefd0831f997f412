#!/bin/sh
# Miller peer.  usage: sh mlr_w.sh W1|W3 IN OUT
# ("then" chains Miller's verbs: it is an argument, not the shell's keyword)
work=$1 src=$2 dst=$3
case $work in
W1)
    mlr --icsv --ocsv --ofmt %.17g \
        filter '$output_t > 456.0' \
        'then' put '$yield = $output_t / $area_mu' \
        'then' stats1 -a count,sum,mean -f output_t,yield -g district,year \
        'then' cut -o -f district,year,output_t_count,output_t_sum,yield_mean \
        'then' sort -f district -nf year \
        "$src" >"$dst"
    ;;
W3)
    mlr --icsv --onidx --ofmt %.6f stats1 -a sum -f output_t "$src" >"$dst"
    ;;
*)
    echo "mlr_w.sh: unknown workload $work" >&2
    exit 2
    ;;
esac
