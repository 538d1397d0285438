;; tokenwise GEMM kernel, WebAssembly SIMD128. This file is the source: scripts/build-wasm.mjs
;; assembles it and embeds the bytes in src/kernels/wasm/gemm.wasm.ts. Each name in double braces is a
;; constant the build takes from src/kernels/activation.ts (exp's coefficients, the
;; activations' constants and codes), so the JavaScript and WebAssembly activations share one
;; source for every number they both use.
;;
;; gemm: out[r, j] = act(sum_k x[r, k] * w[k, j] + bias[j]), for the 16 columns of each
;;   panel p0 .. p1-1. x: `rows` rows of K floats in pairs: rows 2i and 2i+1 interleaved from
;;   x + 2i * lda (element k of the pair's rows at + 8k and + 8k + 4), an odd last row plain
;;   from x + (rows-1) * lda, so lda is a row's size in bytes. w: panels of 16 columns, panel p
;;   at w + p * ldw, element (k, c) at + 64k + 4c. bias: 16-padded, or 0 for none. relu: 1 to
;;   apply x < 0 ? +0 : x (so -0 and NaN pass through, as torch.relu), 0 for none. out: row
;;   size ldo bytes; with pair = 0 plain rows, panel p at byte 64p of a row; with pair = 1 in
;;   the same pairs as x (panel p at byte 128p of a pair), so the result can be the next map's x.
;;
;; Register tiles: 2 rows x 16 columns (8 accumulators, 4 panel vectors, 2 inputs broadcast
;; straight from memory with v128.load32_splat, which measured 13% faster than f32.load and
;; f32x4.splat, a shuffle on the FP ports; the two rows interleaved, so one pointer serves both,
;; 4 to 6% faster again: 14 of the 15 v128 registers V8 leaves free on x64; larger tiles
;; spill). An odd last row, or a single token, has 1 row x 32 columns over two panels (8
;; accumulators), then 1 x 16 for a last odd panel. With one row there is one input per
;; multiply-add pair, so only more columns give independent sums: four chains of f32 adds
;; (1 x 16) are latency-bound at about 46 GFLOP/s, eight are not. V8 would load all eight panel
;; vectors of the 1 x 32 tile before the first multiply (17 live registers, one accumulator
;; spilled: 21 GFLOP/s); a store of the first two sums between the panels orders the loads
;; (45.7 against 42.3 GFLOP/s for the layer at one token, 768 x 3072, where the weights stream
;; from L3 at about 90 GB/s).
;;
;; act: the activations other than relu (gelu, geluTanh, silu), on the float32 values of a
;;   range of memory in place, with the very float64 operations of src/kernels/activation.ts,
;;   in the same order, on two lanes at a time, each value rounded once to float32 at the end:
;;   the same bits as the JavaScript functions (NaN payloads aside, which no one specifies).
;;   Where lanes would branch differently (erf's 18 or 32 series terms, its continued
;;   fraction's depth, exp's scaling) both sides run and a select keeps each lane's own; a lane
;;   that starts a Horner loop later holds +0 until then, which changes no sum.
;;
;; Batch invariance: every output element is summed in f32 over k in increasing order as
;; acc = acc + x * w (a rounded multiply, then a rounded add; never fused), from +0; then the
;; bias, then relu. Every tile does exactly this per element, so an element's bits never depend
;; on which tile computed it, on the other rows, or on how the caller split rows or panels.
;; (Blocking over k, with partial sums stored between blocks, measured slower here at every
;; shape of the benchmark, so the whole inner dimension is one pass.)
(module
  (import "env" "memory" (memory 1 65536))

  (func (export "gemm")
    (param $x i32) (param $lda i32) (param $rows i32) (param $K i32)
    (param $w i32) (param $ldw i32) (param $p0 i32) (param $p1 i32)
    (param $bias i32) (param $relu i32) (param $pair i32) (param $out i32) (param $ldo i32)
    (local $p i32) (local $r i32) (local $wq i32) (local $wq2 i32) (local $bp i32) (local $o i32)
    (local $xa i32) (local $xend i32) (local $q i32) (local $xend2 i32) (local $ts i32) (local $tf i32) (local $tb i32) (local $span i32) (local $sel i32) (local $g i32) (local $ge i32)
    (local $a v128) (local $b v128) (local $w0 v128) (local $w1 v128) (local $w2 v128) (local $w3 v128)
    (local $c00 v128) (local $c01 v128) (local $c02 v128) (local $c03 v128) (local $c04 v128) (local $c05 v128) (local $c06 v128) (local $c07 v128) (local $c10 v128) (local $c11 v128) (local $c12 v128) (local $c13 v128)
    ;; Row pairs, panel by panel: the panel stays in cache while the rows stream by.
    ;; Reading ahead (the k loop's second form): pair j > 0 of a panel also loads, once a step,
    ;; from its (j-1)-th slice of the next panel, its value unused: the next panel comes from
    ;; memory a line every (pairs - 1) steps while this one computes, instead of all at once in
    ;; its own first pair, which would wait for it. A mixture's expert sees about 16 rows,
    ;; 8 pairs, from weights in main memory: such groups ran about 15% faster so (one thread,
    ;; 2048 x 1024 experts in turn). Denser reads were slower (the whole next panel in pairs 1
    ;; to 4: 20% slower), so they are spread over every pair after the first.
    ;;   The slice is read as two streams half a panel (span) apart, the steps taking turns
    ;; (sel: 0, span, 0, ...), each tf / 16 bytes into its half (ts = 512 / (pairs - 1)
    ;; sixteenths of a byte a step): the two streams reach their next 4 KiB pages at the same
    ;; step, where the hardware's prefetching of a stream starts over. Over one stream (64 /
    ;; (pairs - 1) bytes a step), on the 64 experts' group sizes of a 128-token batch (9 to 24
    ;; rows) the experts took 6% less time; 16-row groups 4% less, 8-row 19% less, 24-row the
    ;; same, and 32-row groups (Mixtral's 8 experts, top 2) 4% more, where one stream already
    ;; kept up and the turns' arithmetic shows. Not past the caller's last panel (p1), nor for
    ;; more than 32 pairs, where the first pair is a small share, nor for one pair, nor for
    ;; K >= 2^22, so that tf (at most K * 512) stays below 2^31. A load reads one byte, so none goes
    ;; past the next panel. Loads change no result.
    (local.set $ts (i32.sub (i32.shr_u (local.get $rows) (i32.const 1)) (i32.const 1)))
    (local.set $ts (select (i32.div_u (i32.const 512) (select (local.get $ts) (i32.const 1) (local.get $ts)))
                           (i32.const 0)
                           (i32.and (i32.and (i32.gt_s (local.get $ts) (i32.const 0))
                                             (i32.lt_s (local.get $ts) (i32.const 32)))
                                    (i32.lt_u (local.get $K) (i32.const 0x400000)))))
    ;; Panels go in groups of two (g .. ge-1): the pairs of rows over each panel, then the odd
    ;; last row over both (one 1 x 32 tile) while they are still in cache. Run after all the
    ;; panels instead, that row read every panel of the map again, from main memory when the
    ;; weights are larger than the cache: a mixture's expert with a group of 17 tokens
    ;; (2048 x 1024 experts in turn, one thread) took 13% longer than now, and about half the
    ;; groups of a 128-token batch over 64 experts are odd. The tiles compute every element as
    ;; above, so which tile takes a row changes no bit.
    (local.set $g (local.get $p0))
    (block $g_done
      (loop $g_next
      (br_if $g_done (i32.ge_u (local.get $g) (local.get $p1)))
      (local.set $ge (select (i32.add (local.get $g) (i32.const 2)) (local.get $p1)
                             (i32.lt_u (i32.add (local.get $g) (i32.const 2)) (local.get $p1))))
    (local.set $p (local.get $g))
    (block $p_done
      (loop $p_next
      (br_if $p_done (i32.ge_u (local.get $p) (local.get $ge)))
      (local.set $bp (select (i32.add (local.get $bias) (i32.shl (local.get $p) (i32.const 6)))
                             (i32.const 0) (local.get $bias)))
      (local.set $r (i32.const 0))
      (block $r_done
        (loop $r_next
        (br_if $r_done (i32.gt_u (i32.add (local.get $r) (i32.const 2)) (local.get $rows)))
        (local.set $xa (i32.add (local.get $x) (i32.mul (local.get $r) (local.get $lda))))
        (local.set $xend (i32.add (local.get $xa) (i32.shl (local.get $K) (i32.const 3))))
        (local.set $wq (i32.add (local.get $w) (i32.mul (local.get $p) (local.get $ldw))))
        (local.set $tb (i32.add (local.get $wq) (local.get $ldw)))
        (local.set $tf (i32.mul (i32.sub (i32.shr_u (local.get $r) (i32.const 1)) (i32.const 1))
                                (i32.mul (local.get $K) (local.get $ts))))
        (local.set $span (i32.shr_u (i32.shl (local.get $K) (i32.const 6)) (i32.const 1)))
        (local.set $sel (i32.const 0))
        (local.set $o (i32.add (i32.add (local.get $out) (i32.mul (local.get $r) (local.get $ldo)))
                               (i32.shl (local.get $p) (i32.const 6))))
        (local.set $q (i32.add (i32.add (local.get $out) (i32.mul (local.get $r) (local.get $ldo)))
                               (i32.shl (local.get $p) (i32.const 7))))
        (local.set $c00 (v128.const i32x4 0 0 0 0))
        (local.set $c01 (v128.const i32x4 0 0 0 0))
        (local.set $c02 (v128.const i32x4 0 0 0 0))
        (local.set $c03 (v128.const i32x4 0 0 0 0))
        (local.set $c10 (v128.const i32x4 0 0 0 0))
        (local.set $c11 (v128.const i32x4 0 0 0 0))
        (local.set $c12 (v128.const i32x4 0 0 0 0))
        (local.set $c13 (v128.const i32x4 0 0 0 0))
        (if (i32.and (i32.and (i32.ne (local.get $r) (i32.const 0)) (i32.ne (local.get $ts) (i32.const 0)))
                     (i32.lt_u (i32.add (local.get $p) (i32.const 1)) (local.get $p1)))
          (then
            (block $k_done_ahead
              (loop $k_next_ahead
              (br_if $k_done_ahead (i32.ge_u (local.get $xa) (local.get $xend)))
              (local.set $w0 (v128.load offset=0 (local.get $wq)))
              (local.set $w1 (v128.load offset=16 (local.get $wq)))
              (local.set $w2 (v128.load offset=32 (local.get $wq)))
              (local.set $w3 (v128.load offset=48 (local.get $wq)))
              (local.set $a (v128.load32_splat (local.get $xa)))
              (local.set $b (v128.load32_splat offset=4 (local.get $xa)))
              (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $a) (local.get $w0))))
              (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $a) (local.get $w1))))
              (local.set $c02 (f32x4.add (local.get $c02) (f32x4.mul (local.get $a) (local.get $w2))))
              (local.set $c03 (f32x4.add (local.get $c03) (f32x4.mul (local.get $a) (local.get $w3))))
              (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $b) (local.get $w0))))
              (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $b) (local.get $w1))))
              (local.set $c12 (f32x4.add (local.get $c12) (f32x4.mul (local.get $b) (local.get $w2))))
              (local.set $c13 (f32x4.add (local.get $c13) (f32x4.mul (local.get $b) (local.get $w3))))
              (drop (i32.load8_u (i32.add (i32.add (local.get $tb) (local.get $sel)) (i32.shr_u (local.get $tf) (i32.const 4)))))
              (local.set $sel (i32.sub (local.get $span) (local.get $sel)))
              (local.set $tf (i32.add (local.get $tf) (local.get $ts)))
              (local.set $xa (i32.add (local.get $xa) (i32.const 8)))
              (local.set $wq (i32.add (local.get $wq) (i32.const 64)))
              (br $k_next_ahead)))
          )
          (else
        (block $k_done_2x16
          (loop $k_next_2x16
          (br_if $k_done_2x16 (i32.ge_u (local.get $xa) (local.get $xend)))
          (local.set $w0 (v128.load offset=0 (local.get $wq)))
          (local.set $w1 (v128.load offset=16 (local.get $wq)))
          (local.set $w2 (v128.load offset=32 (local.get $wq)))
          (local.set $w3 (v128.load offset=48 (local.get $wq)))
          (local.set $a (v128.load32_splat (local.get $xa)))
          (local.set $b (v128.load32_splat offset=4 (local.get $xa)))
          (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $a) (local.get $w0))))
          (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $a) (local.get $w1))))
          (local.set $c02 (f32x4.add (local.get $c02) (f32x4.mul (local.get $a) (local.get $w2))))
          (local.set $c03 (f32x4.add (local.get $c03) (f32x4.mul (local.get $a) (local.get $w3))))
          (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $b) (local.get $w0))))
          (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $b) (local.get $w1))))
          (local.set $c12 (f32x4.add (local.get $c12) (f32x4.mul (local.get $b) (local.get $w2))))
          (local.set $c13 (f32x4.add (local.get $c13) (f32x4.mul (local.get $b) (local.get $w3))))
          (local.set $xa (i32.add (local.get $xa) (i32.const 8)))
          (local.set $wq (i32.add (local.get $wq) (i32.const 64)))
          (br $k_next_2x16)))
        ))
        ;; Epilogue: + bias, then relu, then store (inline: a call per vector was 2% slower).
        (if (local.get $bp) (then
          (local.set $c00 (f32x4.add (local.get $c00) (v128.load offset=0 (local.get $bp))))
          (local.set $c01 (f32x4.add (local.get $c01) (v128.load offset=16 (local.get $bp))))
          (local.set $c02 (f32x4.add (local.get $c02) (v128.load offset=32 (local.get $bp))))
          (local.set $c03 (f32x4.add (local.get $c03) (v128.load offset=48 (local.get $bp))))
          (local.set $c10 (f32x4.add (local.get $c10) (v128.load offset=0 (local.get $bp))))
          (local.set $c11 (f32x4.add (local.get $c11) (v128.load offset=16 (local.get $bp))))
          (local.set $c12 (f32x4.add (local.get $c12) (v128.load offset=32 (local.get $bp))))
          (local.set $c13 (f32x4.add (local.get $c13) (v128.load offset=48 (local.get $bp))))
        ))
        (if (local.get $relu) (then
          (local.set $c00 (v128.andnot (local.get $c00) (f32x4.lt (local.get $c00) (v128.const i32x4 0 0 0 0))))
          (local.set $c01 (v128.andnot (local.get $c01) (f32x4.lt (local.get $c01) (v128.const i32x4 0 0 0 0))))
          (local.set $c02 (v128.andnot (local.get $c02) (f32x4.lt (local.get $c02) (v128.const i32x4 0 0 0 0))))
          (local.set $c03 (v128.andnot (local.get $c03) (f32x4.lt (local.get $c03) (v128.const i32x4 0 0 0 0))))
          (local.set $c10 (v128.andnot (local.get $c10) (f32x4.lt (local.get $c10) (v128.const i32x4 0 0 0 0))))
          (local.set $c11 (v128.andnot (local.get $c11) (f32x4.lt (local.get $c11) (v128.const i32x4 0 0 0 0))))
          (local.set $c12 (v128.andnot (local.get $c12) (f32x4.lt (local.get $c12) (v128.const i32x4 0 0 0 0))))
          (local.set $c13 (v128.andnot (local.get $c13) (f32x4.lt (local.get $c13) (v128.const i32x4 0 0 0 0))))
        ))
        (if (local.get $pair)
          (then
          (v128.store offset=0 (local.get $q) (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $c00) (local.get $c10)))
          (v128.store offset=16 (local.get $q) (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $c00) (local.get $c10)))
          (v128.store offset=32 (local.get $q) (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $c01) (local.get $c11)))
          (v128.store offset=48 (local.get $q) (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $c01) (local.get $c11)))
          (v128.store offset=64 (local.get $q) (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $c02) (local.get $c12)))
          (v128.store offset=80 (local.get $q) (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $c02) (local.get $c12)))
          (v128.store offset=96 (local.get $q) (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $c03) (local.get $c13)))
          (v128.store offset=112 (local.get $q) (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $c03) (local.get $c13)))
          )
          (else
          (v128.store offset=0 (local.get $o) (local.get $c00))
          (v128.store offset=16 (local.get $o) (local.get $c01))
          (v128.store offset=32 (local.get $o) (local.get $c02))
          (v128.store offset=48 (local.get $o) (local.get $c03))
          (v128.store offset=0 (i32.add (local.get $o) (local.get $ldo)) (local.get $c10))
          (v128.store offset=16 (i32.add (local.get $o) (local.get $ldo)) (local.get $c11))
          (v128.store offset=32 (i32.add (local.get $o) (local.get $ldo)) (local.get $c12))
          (v128.store offset=48 (i32.add (local.get $o) (local.get $ldo)) (local.get $c13))
          ))
        (local.set $r (i32.add (local.get $r) (i32.const 2)))
        (br $r_next)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $p_next)))
    ;; The odd last row (or the only one) over the group's panels: two at a time (1 x 32), or a
    ;; last panel alone (1 x 16).
    (if (i32.and (local.get $rows) (i32.const 1))
      (then
      (local.set $r (i32.sub (local.get $rows) (i32.const 1)))
      (local.set $xend (i32.add (i32.add (local.get $x) (i32.mul (local.get $r) (local.get $lda))) (i32.shl (local.get $K) (i32.const 2))))
      (local.set $p (local.get $g))
      (block $t_done
        (loop $t_next
        (br_if $t_done (i32.gt_u (i32.add (local.get $p) (i32.const 2)) (local.get $ge)))
        (local.set $bp (select (i32.add (local.get $bias) (i32.shl (local.get $p) (i32.const 6))) (i32.const 0) (local.get $bias)))
        (local.set $o (i32.add (i32.add (local.get $out) (i32.mul (local.get $r) (local.get $ldo))) (i32.shl (local.get $p) (i32.const 6))))
        (local.set $wq (i32.add (local.get $w) (i32.mul (local.get $p) (local.get $ldw))))
        (local.set $wq2 (i32.add (local.get $wq) (local.get $ldw)))
        (local.set $c00 (v128.const i32x4 0 0 0 0))
        (local.set $c01 (v128.const i32x4 0 0 0 0))
        (local.set $c02 (v128.const i32x4 0 0 0 0))
        (local.set $c03 (v128.const i32x4 0 0 0 0))
        (local.set $c04 (v128.const i32x4 0 0 0 0))
        (local.set $c05 (v128.const i32x4 0 0 0 0))
        (local.set $c06 (v128.const i32x4 0 0 0 0))
        (local.set $c07 (v128.const i32x4 0 0 0 0))
        (local.set $xa (i32.add (local.get $x) (i32.mul (local.get $r) (local.get $lda))))
        (block $k_done_1x32
          (loop $k_next_1x32
          (br_if $k_done_1x32 (i32.ge_u (local.get $xa) (local.get $xend)))
          (local.set $a (v128.load32_splat (local.get $xa)))
          (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $a) (v128.load offset=0 (local.get $wq)))))
          (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $a) (v128.load offset=16 (local.get $wq)))))
          (local.set $c02 (f32x4.add (local.get $c02) (f32x4.mul (local.get $a) (v128.load offset=32 (local.get $wq)))))
          (local.set $c03 (f32x4.add (local.get $c03) (f32x4.mul (local.get $a) (v128.load offset=48 (local.get $wq)))))
          ;; A scheduling fence, not a result: the final stores below overwrite it. Without it V8
          ;; loads all eight panel vectors first and spills an accumulator; a store orders the
          ;; second panel's loads after the first two sums, which then free their registers.
          (v128.store (local.get $o) (v128.or (local.get $c00) (local.get $c01)))
          (local.set $c04 (f32x4.add (local.get $c04) (f32x4.mul (local.get $a) (v128.load offset=0 (local.get $wq2)))))
          (local.set $c05 (f32x4.add (local.get $c05) (f32x4.mul (local.get $a) (v128.load offset=16 (local.get $wq2)))))
          (local.set $c06 (f32x4.add (local.get $c06) (f32x4.mul (local.get $a) (v128.load offset=32 (local.get $wq2)))))
          (local.set $c07 (f32x4.add (local.get $c07) (f32x4.mul (local.get $a) (v128.load offset=48 (local.get $wq2)))))
          (local.set $xa (i32.add (local.get $xa) (i32.const 4)))
          (local.set $wq (i32.add (local.get $wq) (i32.const 64)))
          (local.set $wq2 (i32.add (local.get $wq2) (i32.const 64)))
          (br $k_next_1x32)))
        (if (local.get $bp) (then
          (local.set $c00 (f32x4.add (local.get $c00) (v128.load offset=0 (local.get $bp))))
          (local.set $c01 (f32x4.add (local.get $c01) (v128.load offset=16 (local.get $bp))))
          (local.set $c02 (f32x4.add (local.get $c02) (v128.load offset=32 (local.get $bp))))
          (local.set $c03 (f32x4.add (local.get $c03) (v128.load offset=48 (local.get $bp))))
          (local.set $c04 (f32x4.add (local.get $c04) (v128.load offset=64 (local.get $bp))))
          (local.set $c05 (f32x4.add (local.get $c05) (v128.load offset=80 (local.get $bp))))
          (local.set $c06 (f32x4.add (local.get $c06) (v128.load offset=96 (local.get $bp))))
          (local.set $c07 (f32x4.add (local.get $c07) (v128.load offset=112 (local.get $bp))))
        ))
        (if (local.get $relu) (then
          (local.set $c00 (v128.andnot (local.get $c00) (f32x4.lt (local.get $c00) (v128.const i32x4 0 0 0 0))))
          (local.set $c01 (v128.andnot (local.get $c01) (f32x4.lt (local.get $c01) (v128.const i32x4 0 0 0 0))))
          (local.set $c02 (v128.andnot (local.get $c02) (f32x4.lt (local.get $c02) (v128.const i32x4 0 0 0 0))))
          (local.set $c03 (v128.andnot (local.get $c03) (f32x4.lt (local.get $c03) (v128.const i32x4 0 0 0 0))))
          (local.set $c04 (v128.andnot (local.get $c04) (f32x4.lt (local.get $c04) (v128.const i32x4 0 0 0 0))))
          (local.set $c05 (v128.andnot (local.get $c05) (f32x4.lt (local.get $c05) (v128.const i32x4 0 0 0 0))))
          (local.set $c06 (v128.andnot (local.get $c06) (f32x4.lt (local.get $c06) (v128.const i32x4 0 0 0 0))))
          (local.set $c07 (v128.andnot (local.get $c07) (f32x4.lt (local.get $c07) (v128.const i32x4 0 0 0 0))))
        ))
        (v128.store offset=0 (local.get $o) (local.get $c00))
        (v128.store offset=16 (local.get $o) (local.get $c01))
        (v128.store offset=32 (local.get $o) (local.get $c02))
        (v128.store offset=48 (local.get $o) (local.get $c03))
        (v128.store offset=64 (local.get $o) (local.get $c04))
        (v128.store offset=80 (local.get $o) (local.get $c05))
        (v128.store offset=96 (local.get $o) (local.get $c06))
        (v128.store offset=112 (local.get $o) (local.get $c07))
        (local.set $p (i32.add (local.get $p) (i32.const 2)))
        (br $t_next)))
      (block $q_done
        (loop $q_next
        (br_if $q_done (i32.ge_u (local.get $p) (local.get $ge)))
        (local.set $bp (select (i32.add (local.get $bias) (i32.shl (local.get $p) (i32.const 6)))
                               (i32.const 0) (local.get $bias)))
        (local.set $xa (i32.add (local.get $x) (i32.mul (local.get $r) (local.get $lda))))
        (local.set $xend (i32.add (local.get $xa) (i32.shl (local.get $K) (i32.const 2))))
        (local.set $wq (i32.add (local.get $w) (i32.mul (local.get $p) (local.get $ldw))))
        (local.set $o (i32.add (i32.add (local.get $out) (i32.mul (local.get $r) (local.get $ldo)))
                               (i32.shl (local.get $p) (i32.const 6))))
        (local.set $c00 (v128.const i32x4 0 0 0 0))
        (local.set $c01 (v128.const i32x4 0 0 0 0))
        (local.set $c02 (v128.const i32x4 0 0 0 0))
        (local.set $c03 (v128.const i32x4 0 0 0 0))
        (block $k_done_1x16
          (loop $k_next_1x16
          (br_if $k_done_1x16 (i32.ge_u (local.get $xa) (local.get $xend)))
          (local.set $a (v128.load32_splat (local.get $xa)))
          (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $a) (v128.load offset=0 (local.get $wq)))))
          (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $a) (v128.load offset=16 (local.get $wq)))))
          (local.set $c02 (f32x4.add (local.get $c02) (f32x4.mul (local.get $a) (v128.load offset=32 (local.get $wq)))))
          (local.set $c03 (f32x4.add (local.get $c03) (f32x4.mul (local.get $a) (v128.load offset=48 (local.get $wq)))))
          (local.set $xa (i32.add (local.get $xa) (i32.const 4)))
          (local.set $wq (i32.add (local.get $wq) (i32.const 64)))
          (br $k_next_1x16)))
        (if (local.get $bp) (then
          (local.set $c00 (f32x4.add (local.get $c00) (v128.load offset=0 (local.get $bp))))
          (local.set $c01 (f32x4.add (local.get $c01) (v128.load offset=16 (local.get $bp))))
          (local.set $c02 (f32x4.add (local.get $c02) (v128.load offset=32 (local.get $bp))))
          (local.set $c03 (f32x4.add (local.get $c03) (v128.load offset=48 (local.get $bp))))
        ))
        (if (local.get $relu) (then
          (local.set $c00 (v128.andnot (local.get $c00) (f32x4.lt (local.get $c00) (v128.const i32x4 0 0 0 0))))
          (local.set $c01 (v128.andnot (local.get $c01) (f32x4.lt (local.get $c01) (v128.const i32x4 0 0 0 0))))
          (local.set $c02 (v128.andnot (local.get $c02) (f32x4.lt (local.get $c02) (v128.const i32x4 0 0 0 0))))
          (local.set $c03 (v128.andnot (local.get $c03) (f32x4.lt (local.get $c03) (v128.const i32x4 0 0 0 0))))
        ))
        (v128.store offset=0 (local.get $o) (local.get $c00))
        (v128.store offset=16 (local.get $o) (local.get $c01))
        (v128.store offset=32 (local.get $o) (local.get $c02))
        (v128.store offset=48 (local.get $o) (local.get $c03))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $q_next)))))
      (local.set $g (local.get $ge))
      (br $g_next))))

  ;; gemvsplit: gemm's sums for one token (x plain, K floats) over panels p0 .. p1-1 of w (panel p
  ;;   at w + p * ldw), with bias (16-padded, or 0) and relu (1 or 0) as gemm's; out plain (panel p
  ;;   at out + 64p). gemm's 1 x 32 tile, but over panels h apart, h = (p1 - p0) / 2 rounded down:
  ;;   panel p0 + i with panel p0 + h + i, then a last odd panel alone (1 x 16). Each element is
  ;;   gemm's: +0, then acc + x_k * w_kj for k increasing, each product and sum rounded, then the
  ;;   bias, then relu; so which panels share a tile changes no bit. Why: from main memory the
  ;;   tile reads two streams, and with gemm's neighbouring panels both end at every other panel
  ;;   (48 KiB at K = 768) and start again; here each runs on through half of the panels, front
  ;;   to back. Measured (bench:row-skip's probe, one thread, 768 x 3072 and 3072 x 768 float32
  ;;   from main memory, an AMD EPYC Zen 5): 0.72x-0.77x gemm's time at K = 768, 0.94x-0.96x at
  ;;   K = 3072.
  (func (export "gemvsplit")
    (param $x i32) (param $K i32) (param $w i32) (param $ldw i32) (param $p0 i32) (param $p1 i32)
    (param $bias i32) (param $relu i32) (param $out i32)
    (local $h i32) (local $i i32) (local $p i32) (local $xa i32) (local $xend i32) (local $wq i32)
    (local $wq2 i32) (local $o i32) (local $o2 i32) (local $bp i32) (local $bp2 i32) (local $a v128)
    (local $c00 v128) (local $c01 v128) (local $c02 v128) (local $c03 v128)
    (local $c04 v128) (local $c05 v128) (local $c06 v128) (local $c07 v128)
    (local.set $h (i32.shr_u (i32.sub (local.get $p1) (local.get $p0)) (i32.const 1)))
    (local.set $xend (i32.add (local.get $x) (i32.shl (local.get $K) (i32.const 2))))
    (block $t_done
      (loop $t_next
        (br_if $t_done (i32.ge_u (local.get $i) (local.get $h)))
        (local.set $p (i32.add (local.get $p0) (local.get $i)))
        (local.set $wq (i32.add (local.get $w) (i32.mul (local.get $p) (local.get $ldw))))
        (local.set $wq2 (i32.add (local.get $wq) (i32.mul (local.get $h) (local.get $ldw))))
        (local.set $o (i32.add (local.get $out) (i32.shl (local.get $p) (i32.const 6))))
        (local.set $o2 (i32.add (local.get $o) (i32.shl (local.get $h) (i32.const 6))))
        (local.set $bp (select (i32.add (local.get $bias) (i32.shl (local.get $p) (i32.const 6)))
                               (i32.const 0) (local.get $bias)))
        (local.set $bp2 (i32.add (local.get $bp) (i32.shl (local.get $h) (i32.const 6))))
        (local.set $c00 (v128.const i32x4 0 0 0 0))
        (local.set $c01 (v128.const i32x4 0 0 0 0))
        (local.set $c02 (v128.const i32x4 0 0 0 0))
        (local.set $c03 (v128.const i32x4 0 0 0 0))
        (local.set $c04 (v128.const i32x4 0 0 0 0))
        (local.set $c05 (v128.const i32x4 0 0 0 0))
        (local.set $c06 (v128.const i32x4 0 0 0 0))
        (local.set $c07 (v128.const i32x4 0 0 0 0))
        (local.set $xa (local.get $x))
        (block $k_done
          (loop $k_next
          (br_if $k_done (i32.ge_u (local.get $xa) (local.get $xend)))
          (local.set $a (v128.load32_splat (local.get $xa)))
          (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $a) (v128.load offset=0 (local.get $wq)))))
          (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $a) (v128.load offset=16 (local.get $wq)))))
          (local.set $c02 (f32x4.add (local.get $c02) (f32x4.mul (local.get $a) (v128.load offset=32 (local.get $wq)))))
          (local.set $c03 (f32x4.add (local.get $c03) (f32x4.mul (local.get $a) (v128.load offset=48 (local.get $wq)))))
          ;; gemm's scheduling fence (see the 1 x 32 tile there): overwritten by the final stores.
          (v128.store (local.get $o) (v128.or (local.get $c00) (local.get $c01)))
          (local.set $c04 (f32x4.add (local.get $c04) (f32x4.mul (local.get $a) (v128.load offset=0 (local.get $wq2)))))
          (local.set $c05 (f32x4.add (local.get $c05) (f32x4.mul (local.get $a) (v128.load offset=16 (local.get $wq2)))))
          (local.set $c06 (f32x4.add (local.get $c06) (f32x4.mul (local.get $a) (v128.load offset=32 (local.get $wq2)))))
          (local.set $c07 (f32x4.add (local.get $c07) (f32x4.mul (local.get $a) (v128.load offset=48 (local.get $wq2)))))
          (local.set $xa (i32.add (local.get $xa) (i32.const 4)))
          (local.set $wq (i32.add (local.get $wq) (i32.const 64)))
          (local.set $wq2 (i32.add (local.get $wq2) (i32.const 64)))
          (br $k_next)))
        (if (local.get $bp) (then
          (local.set $c00 (f32x4.add (local.get $c00) (v128.load offset=0 (local.get $bp))))
          (local.set $c01 (f32x4.add (local.get $c01) (v128.load offset=16 (local.get $bp))))
          (local.set $c02 (f32x4.add (local.get $c02) (v128.load offset=32 (local.get $bp))))
          (local.set $c03 (f32x4.add (local.get $c03) (v128.load offset=48 (local.get $bp))))
          (local.set $c04 (f32x4.add (local.get $c04) (v128.load offset=0 (local.get $bp2))))
          (local.set $c05 (f32x4.add (local.get $c05) (v128.load offset=16 (local.get $bp2))))
          (local.set $c06 (f32x4.add (local.get $c06) (v128.load offset=32 (local.get $bp2))))
          (local.set $c07 (f32x4.add (local.get $c07) (v128.load offset=48 (local.get $bp2))))
        ))
        (if (local.get $relu) (then
          (local.set $c00 (v128.andnot (local.get $c00) (f32x4.lt (local.get $c00) (v128.const i32x4 0 0 0 0))))
          (local.set $c01 (v128.andnot (local.get $c01) (f32x4.lt (local.get $c01) (v128.const i32x4 0 0 0 0))))
          (local.set $c02 (v128.andnot (local.get $c02) (f32x4.lt (local.get $c02) (v128.const i32x4 0 0 0 0))))
          (local.set $c03 (v128.andnot (local.get $c03) (f32x4.lt (local.get $c03) (v128.const i32x4 0 0 0 0))))
          (local.set $c04 (v128.andnot (local.get $c04) (f32x4.lt (local.get $c04) (v128.const i32x4 0 0 0 0))))
          (local.set $c05 (v128.andnot (local.get $c05) (f32x4.lt (local.get $c05) (v128.const i32x4 0 0 0 0))))
          (local.set $c06 (v128.andnot (local.get $c06) (f32x4.lt (local.get $c06) (v128.const i32x4 0 0 0 0))))
          (local.set $c07 (v128.andnot (local.get $c07) (f32x4.lt (local.get $c07) (v128.const i32x4 0 0 0 0))))
        ))
        (v128.store offset=0 (local.get $o) (local.get $c00))
        (v128.store offset=16 (local.get $o) (local.get $c01))
        (v128.store offset=32 (local.get $o) (local.get $c02))
        (v128.store offset=48 (local.get $o) (local.get $c03))
        (v128.store offset=0 (local.get $o2) (local.get $c04))
        (v128.store offset=16 (local.get $o2) (local.get $c05))
        (v128.store offset=32 (local.get $o2) (local.get $c06))
        (v128.store offset=48 (local.get $o2) (local.get $c07))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $t_next)))
    ;; A last odd panel alone.
    (if (i32.and (i32.sub (local.get $p1) (local.get $p0)) (i32.const 1)) (then
        (local.set $p (i32.sub (local.get $p1) (i32.const 1)))
        (local.set $wq (i32.add (local.get $w) (i32.mul (local.get $p) (local.get $ldw))))
        (local.set $o (i32.add (local.get $out) (i32.shl (local.get $p) (i32.const 6))))
        (local.set $bp (select (i32.add (local.get $bias) (i32.shl (local.get $p) (i32.const 6)))
                               (i32.const 0) (local.get $bias)))
        (local.set $c00 (v128.const i32x4 0 0 0 0))
        (local.set $c01 (v128.const i32x4 0 0 0 0))
        (local.set $c02 (v128.const i32x4 0 0 0 0))
        (local.set $c03 (v128.const i32x4 0 0 0 0))
        (local.set $xa (local.get $x))
        (block $k1_done
          (loop $k1_next
          (br_if $k1_done (i32.ge_u (local.get $xa) (local.get $xend)))
          (local.set $a (v128.load32_splat (local.get $xa)))
          (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $a) (v128.load offset=0 (local.get $wq)))))
          (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $a) (v128.load offset=16 (local.get $wq)))))
          (local.set $c02 (f32x4.add (local.get $c02) (f32x4.mul (local.get $a) (v128.load offset=32 (local.get $wq)))))
          (local.set $c03 (f32x4.add (local.get $c03) (f32x4.mul (local.get $a) (v128.load offset=48 (local.get $wq)))))
          (local.set $xa (i32.add (local.get $xa) (i32.const 4)))
          (local.set $wq (i32.add (local.get $wq) (i32.const 64)))
          (br $k1_next)))
        (if (local.get $bp) (then
          (local.set $c00 (f32x4.add (local.get $c00) (v128.load offset=0 (local.get $bp))))
          (local.set $c01 (f32x4.add (local.get $c01) (v128.load offset=16 (local.get $bp))))
          (local.set $c02 (f32x4.add (local.get $c02) (v128.load offset=32 (local.get $bp))))
          (local.set $c03 (f32x4.add (local.get $c03) (v128.load offset=48 (local.get $bp))))
        ))
        (if (local.get $relu) (then
          (local.set $c00 (v128.andnot (local.get $c00) (f32x4.lt (local.get $c00) (v128.const i32x4 0 0 0 0))))
          (local.set $c01 (v128.andnot (local.get $c01) (f32x4.lt (local.get $c01) (v128.const i32x4 0 0 0 0))))
          (local.set $c02 (v128.andnot (local.get $c02) (f32x4.lt (local.get $c02) (v128.const i32x4 0 0 0 0))))
          (local.set $c03 (v128.andnot (local.get $c03) (f32x4.lt (local.get $c03) (v128.const i32x4 0 0 0 0))))
        ))
        (v128.store offset=0 (local.get $o) (local.get $c00))
        (v128.store offset=16 (local.get $o) (local.get $c01))
        (v128.store offset=32 (local.get $o) (local.get $c02))
        (v128.store offset=48 (local.get $o) (local.get $c03))
      )))

  ;; The 16-bit weights (bf16, f16). A 16-bit panel holds 32 bytes a row, its 16 columns in the
  ;; order of layout.ts's slotOf: the first 16 bytes hold columns 0..7 as 32-bit lanes of (column
  ;; i, column 4 + i), the next 16 bytes columns 8..15 alike, so that a lane's low half shifted up
  ;; 16 bits is one column's value and its high half masked is another's, in order. Widening is
  ;; exact (every bf16 and every f16 value is a float32), so a kernel that widens, then multiplies
  ;; and adds, performs gemm's very float32 operations on the widened weights, element by element.
  ;;
  ;; bf16 ({{DT_bf16}}) is float32's high half: `lane << 16` and `lane & 0xffff0000`.
  ;;
  ;; f16 (binary16): with a half h in a lane's high 16 bits (t), m = `(t >>s 3) & 0x8fffe000` is
  ;; h's sign in bit 31 and its 15 other bits moved down 3: a float32 whose value is h's times
  ;; 2^-112 (a subnormal h gives a subnormal m, scaled alike), so m * 2^112, exact, is h's value.
  ;; But a float32 multiplication with a subnormal operand takes a microcode assist of about a
  ;; hundred cycles on Intel cores, and trained weights hold some f16 subnormals (0.4% of the
  ;; seeded weights of a 4096-wide layer, |w| < 2^-14): the layer ran at half speed. So a map whose
  ;; weights are all finite and below 64 in magnitude is kept scaled by 2^10 (layout.ts,
  ;; WEIGHT_CODE.f16s): a scaled code c is the f16 of w * 2^10, never subnormal (the smallest
  ;; nonzero one is 2^-24 * 2^10 = 2^-14), its m is a normal float32 or zero, and
  ;; w = m * 2^102, exactly ({{DT_f16s}}). Any other f16 map ({{DT_f16}}: an infinity, a NaN, a
  ;; weight of 64 or more) takes $half, slower: it gives infinities and NaN their exponent.
  ;;
  ;; Reading ahead: the loops that stream 16-bit weights two panels at a time or one load a word
  ;; 8 KiB ahead of each stream and drop it (gemv16's 1 x 64 tile does not: see there). Widening fills the out-of-order window with arithmetic, so fewer of a stream's
  ;; cache misses overlapped: one token through LLaMA-7B's MLP (G1, weights from memory) went
  ;; from 1.4x to 1.8x the float32 layer's speed for bf16, and from 0.7x to 1.35x-1.6x for f16,
  ;; with the word read 8 KiB ahead (2 KiB gave 1.4x for f16, 16 KiB no more than 8; same runs,
  ;; a shared machine). The float32 tile measured slower with such loads (docs/kernels.md), so
  ;; it has none. A layout keeps more than 8 KiB after its last weights (layout.ts, READ_AHEAD),
  ;; so the word is always inside the memory.

  ;; A half in the high 16 bits of each lane (any low bits), widened: any value, infinities and
  ;; NaN (payload kept) included.
  (func $half (param $t v128) (result v128)
    (local $m v128)
    (local.set $m (v128.and (i32x4.shr_s (local.get $t) (i32.const 3)) (v128.const i32x4 0x8fffe000 0x8fffe000 0x8fffe000 0x8fffe000)))
    (v128.bitselect
      (i32x4.add (local.get $m) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))
      (f32x4.mul (local.get $m) (v128.const f32x4 0x1p112 0x1p112 0x1p112 0x1p112))
      (i32x4.gt_s (v128.and (local.get $t) (v128.const i32x4 0x7fff0000 0x7fff0000 0x7fff0000 0x7fff0000))
                  (v128.const i32x4 0x7bffffff 0x7bffffff 0x7bffffff 0x7bffffff))))

  ;; widen: K rows of a 16-bit panel at $src, of weight code $code, into a float32 panel at $dst
  ;; (64 bytes a row, columns in order): the weights' values, exactly. A batch widens each panel
  ;; once into a scratch panel, which gemm then reads for every pair of tokens.
  (func (export "widen") (param $src i32) (param $dst i32) (param $K i32) (param $code i32)
    (local $end i32) (local $v v128) (local $hm v128) (local $fm v128) (local $fs v128)
    (local.set $end (i32.add (local.get $src) (i32.shl (local.get $K) (i32.const 5))))
    (local.set $hm (v128.const i32x4 0xffff0000 0xffff0000 0xffff0000 0xffff0000))
    (local.set $fm (v128.const i32x4 0x8fffe000 0x8fffe000 0x8fffe000 0x8fffe000))
    (local.set $fs (v128.const f32x4 0x1p102 0x1p102 0x1p102 0x1p102))
    (if (i32.eq (local.get $code) (i32.const {{DT_bf16}})) (then
      (block $wb_done
        (loop $wb_next
        (br_if $wb_done (i32.ge_u (local.get $src) (local.get $end)))
        (drop (i32.load offset=8192 (local.get $src)))
        (local.set $v (v128.load (local.get $src)))
        (v128.store offset=0 (local.get $dst) (i32x4.shl (local.get $v) (i32.const 16)))
        (v128.store offset=16 (local.get $dst) (v128.and (local.get $v) (local.get $hm)))
        (local.set $v (v128.load offset=16 (local.get $src)))
        (v128.store offset=32 (local.get $dst) (i32x4.shl (local.get $v) (i32.const 16)))
        (v128.store offset=48 (local.get $dst) (v128.and (local.get $v) (local.get $hm)))
        (local.set $src (i32.add (local.get $src) (i32.const 32)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 64)))
        (br $wb_next)))
      (return)))
    (if (i32.eq (local.get $code) (i32.const {{DT_f16s}})) (then
      (block $ws_done
        (loop $ws_next
        (br_if $ws_done (i32.ge_u (local.get $src) (local.get $end)))
        (drop (i32.load offset=8192 (local.get $src)))
        (local.set $v (v128.load (local.get $src)))
        (v128.store offset=0 (local.get $dst) (f32x4.mul (v128.and (i32x4.shr_s (i32x4.shl (local.get $v) (i32.const 16)) (i32.const 3)) (local.get $fm)) (local.get $fs)))
        (v128.store offset=16 (local.get $dst) (f32x4.mul (v128.and (i32x4.shr_s (local.get $v) (i32.const 3)) (local.get $fm)) (local.get $fs)))
        (local.set $v (v128.load offset=16 (local.get $src)))
        (v128.store offset=32 (local.get $dst) (f32x4.mul (v128.and (i32x4.shr_s (i32x4.shl (local.get $v) (i32.const 16)) (i32.const 3)) (local.get $fm)) (local.get $fs)))
        (v128.store offset=48 (local.get $dst) (f32x4.mul (v128.and (i32x4.shr_s (local.get $v) (i32.const 3)) (local.get $fm)) (local.get $fs)))
        (local.set $src (i32.add (local.get $src) (i32.const 32)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 64)))
        (br $ws_next)))
      (return)))
    (if (i32.ne (local.get $code) (i32.const {{DT_f16}})) (then unreachable))
    (block $wh_done
      (loop $wh_next
      (br_if $wh_done (i32.ge_u (local.get $src) (local.get $end)))
      (drop (i32.load offset=8192 (local.get $src)))
      (local.set $v (v128.load (local.get $src)))
      (v128.store offset=0 (local.get $dst) (call $half (i32x4.shl (local.get $v) (i32.const 16))))
      (v128.store offset=16 (local.get $dst) (call $half (local.get $v)))
      (local.set $v (v128.load offset=16 (local.get $src)))
      (v128.store offset=32 (local.get $dst) (call $half (i32x4.shl (local.get $v) (i32.const 16))))
      (v128.store offset=48 (local.get $dst) (call $half (local.get $v)))
      (local.set $src (i32.add (local.get $src) (i32.const 32)))
      (local.set $dst (i32.add (local.get $dst) (i32.const 64)))
      (br $wh_next)))
  )

  ;; gemv16: out = act(x · w + bias) for one token: x is K floats from $x, w is 16-bit panels
  ;; (panel p at w + p * ldw) of weight code $code, widened in registers; bias, relu and out as
  ;; gemm's (out's row plain, panel p at out + 64p). Every element is gemm's sum on the widened
  ;; weights: +0, then x_k * w_kj added for k increasing, then the bias, then relu. Four panels at
  ;; a time (1 x 64), then two (1 x 32, with gemm's ordering store), then a last one alone
  ;; (1 x 16); f16 by $half takes 1 x 16 throughout.
  ;;
  ;; Why four: from main memory one core reads more with more streams in flight (on a shared
  ;; 2-core Intel Xeon, about 6.7 GB/s from one stream, 10.5 GB/s from four), and the 1 x 32 tile
  ;; has two; its 16-bit rows are half a line, so it reached about 7 GB/s where the float32 tile,
  ;; reading whole lines, reached 10 to 11. The 1 x 64 tile keeps 16 accumulators, more than the
  ;; 15 v128 registers V8 leaves free, so some live on the stack (a store and a load a step, to
  ;; L1), and it still streams faster: the loop alone, weights from memory, went from 1.4x-1.8x
  ;; the float32 1 x 32 tile's speed to 1.8x-2.3x for bf16 and from 1.1x-1.3x to 1.6x-2.1x for
  ;; scaled f16 (K = 768 and 3072; repeated runs on the shared machine). It reads nothing ahead:
  ;; with the word 8 KiB ahead of each of its four streams it was no faster.
  ;;
  ;; Scaled f16 ({{DT_f16s}}) leaves out the multiplication of every weight by 2^102: x_k * 2^102
  ;; goes to $xs (K floats of scratch) once, and (x_k * 2^102) * m is the very real number
  ;; x_k * w, so it rounds to the same float32. That holds when x_k * 2^102 is exact: unless some
  ;; finite |x_k| >= 2^26 (an infinity or NaN scales to itself). For such a token gemv16 writes
  ;; nothing and returns 0, and the caller widens the panels instead (panels.ts); else it returns 1.
  (func (export "gemv16")
    (param $x i32) (param $K i32) (param $w i32) (param $ldw i32) (param $p0 i32) (param $p1 i32)
    (param $bias i32) (param $relu i32) (param $out i32) (param $code i32) (param $xs i32)
    (result i32)
    (local $p i32) (local $wq i32) (local $wq2 i32) (local $wq3 i32) (local $wq4 i32) (local $bp i32) (local $o i32) (local $xa i32) (local $xend i32)
    (local $k i32) (local $f f32)
    (local $a v128) (local $v v128) (local $hm v128) (local $fm v128)
    (local $c00 v128) (local $c01 v128) (local $c02 v128) (local $c03 v128) (local $c04 v128) (local $c05 v128) (local $c06 v128) (local $c07 v128)
    (local $c08 v128) (local $c09 v128) (local $c10 v128) (local $c11 v128) (local $c12 v128) (local $c13 v128) (local $c14 v128) (local $c15 v128)
    (if (i32.and (i32.ne (local.get $code) (i32.const {{DT_bf16}}))
                 (i32.and (i32.ne (local.get $code) (i32.const {{DT_f16}}))
                          (i32.ne (local.get $code) (i32.const {{DT_f16s}})))) (then unreachable))
    (if (i32.eq (local.get $code) (i32.const {{DT_f16s}})) (then
      ;; Four at a time (a worker scales its token once per group of panels), then one.
      (local.set $k (i32.const 0))
      (block $s4_done
        (loop $s4_next
        (br_if $s4_done (i32.gt_u (i32.add (local.get $k) (i32.const 4)) (local.get $K)))
        (local.set $v (v128.load (i32.add (local.get $x) (i32.shl (local.get $k) (i32.const 2)))))
        (local.set $a (f32x4.abs (local.get $v)))
        (if (v128.any_true (v128.and (f32x4.ge (local.get $a) (v128.const f32x4 0x1p26 0x1p26 0x1p26 0x1p26))
                                     (f32x4.ne (local.get $a) (v128.const f32x4 inf inf inf inf))))
          (then (return (i32.const 0))))
        (v128.store (i32.add (local.get $xs) (i32.shl (local.get $k) (i32.const 2)))
                    (f32x4.mul (local.get $v) (v128.const f32x4 0x1p102 0x1p102 0x1p102 0x1p102)))
        (local.set $k (i32.add (local.get $k) (i32.const 4)))
        (br $s4_next)))
      (block $s_done
        (loop $s_next
        (br_if $s_done (i32.ge_u (local.get $k) (local.get $K)))
        (local.set $f (f32.abs (f32.load (i32.add (local.get $x) (i32.shl (local.get $k) (i32.const 2))))))
        (if (i32.and (f32.ge (local.get $f) (f32.const 0x1p26)) (f32.ne (local.get $f) (f32.const inf)))
          (then (return (i32.const 0))))
        (f32.store (i32.add (local.get $xs) (i32.shl (local.get $k) (i32.const 2)))
                   (f32.mul (f32.load (i32.add (local.get $x) (i32.shl (local.get $k) (i32.const 2))))
                            (f32.const 0x1p102)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $s_next)))
      (local.set $x (local.get $xs))))
    (local.set $xend (i32.add (local.get $x) (i32.shl (local.get $K) (i32.const 2))))
    (local.set $hm (v128.const i32x4 0xffff0000 0xffff0000 0xffff0000 0xffff0000))
    (local.set $fm (v128.const i32x4 0x8fffe000 0x8fffe000 0x8fffe000 0x8fffe000))
    (local.set $p (local.get $p0))
    (if (i32.ne (local.get $code) (i32.const {{DT_f16}})) (then
      ;; Four panels at a time (1 x 64): four streams of weights in flight (see above).
      (block $f_done
        (loop $f_next
        (br_if $f_done (i32.gt_u (i32.add (local.get $p) (i32.const 4)) (local.get $p1)))
        (local.set $bp (select (i32.add (local.get $bias) (i32.shl (local.get $p) (i32.const 6))) (i32.const 0) (local.get $bias)))
        (local.set $o (i32.add (local.get $out) (i32.shl (local.get $p) (i32.const 6))))
        (local.set $wq (i32.add (local.get $w) (i32.mul (local.get $p) (local.get $ldw))))
        (local.set $wq2 (i32.add (local.get $wq) (local.get $ldw)))
        (local.set $wq3 (i32.add (local.get $wq2) (local.get $ldw)))
        (local.set $wq4 (i32.add (local.get $wq3) (local.get $ldw)))
        (local.set $xa (local.get $x))
        (local.set $c00 (v128.const i32x4 0 0 0 0))
        (local.set $c01 (v128.const i32x4 0 0 0 0))
        (local.set $c02 (v128.const i32x4 0 0 0 0))
        (local.set $c03 (v128.const i32x4 0 0 0 0))
        (local.set $c04 (v128.const i32x4 0 0 0 0))
        (local.set $c05 (v128.const i32x4 0 0 0 0))
        (local.set $c06 (v128.const i32x4 0 0 0 0))
        (local.set $c07 (v128.const i32x4 0 0 0 0))
        (local.set $c08 (v128.const i32x4 0 0 0 0))
        (local.set $c09 (v128.const i32x4 0 0 0 0))
        (local.set $c10 (v128.const i32x4 0 0 0 0))
        (local.set $c11 (v128.const i32x4 0 0 0 0))
        (local.set $c12 (v128.const i32x4 0 0 0 0))
        (local.set $c13 (v128.const i32x4 0 0 0 0))
        (local.set $c14 (v128.const i32x4 0 0 0 0))
        (local.set $c15 (v128.const i32x4 0 0 0 0))
        (if (i32.eq (local.get $code) (i32.const {{DT_bf16}}))
          (then
          (block $kb64_done
            (loop $kb64_next
            (br_if $kb64_done (i32.ge_u (local.get $xa) (local.get $xend)))
            (local.set $a (v128.load32_splat (local.get $xa)))
            (local.set $v (v128.load offset=0 (local.get $wq)))
            (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $a) (i32x4.shl (local.get $v) (i32.const 16)))))
            (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $a) (v128.and (local.get $v) (local.get $hm)))))
            (local.set $v (v128.load offset=16 (local.get $wq)))
            (local.set $c02 (f32x4.add (local.get $c02) (f32x4.mul (local.get $a) (i32x4.shl (local.get $v) (i32.const 16)))))
            (local.set $c03 (f32x4.add (local.get $c03) (f32x4.mul (local.get $a) (v128.and (local.get $v) (local.get $hm)))))
            (v128.store (local.get $o) (v128.or (local.get $c00) (local.get $c01)))
            (local.set $v (v128.load offset=0 (local.get $wq2)))
            (local.set $c04 (f32x4.add (local.get $c04) (f32x4.mul (local.get $a) (i32x4.shl (local.get $v) (i32.const 16)))))
            (local.set $c05 (f32x4.add (local.get $c05) (f32x4.mul (local.get $a) (v128.and (local.get $v) (local.get $hm)))))
            (local.set $v (v128.load offset=16 (local.get $wq2)))
            (local.set $c06 (f32x4.add (local.get $c06) (f32x4.mul (local.get $a) (i32x4.shl (local.get $v) (i32.const 16)))))
            (local.set $c07 (f32x4.add (local.get $c07) (f32x4.mul (local.get $a) (v128.and (local.get $v) (local.get $hm)))))
            (local.set $v (v128.load offset=0 (local.get $wq3)))
            (local.set $c08 (f32x4.add (local.get $c08) (f32x4.mul (local.get $a) (i32x4.shl (local.get $v) (i32.const 16)))))
            (local.set $c09 (f32x4.add (local.get $c09) (f32x4.mul (local.get $a) (v128.and (local.get $v) (local.get $hm)))))
            (local.set $v (v128.load offset=16 (local.get $wq3)))
            (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $a) (i32x4.shl (local.get $v) (i32.const 16)))))
            (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $a) (v128.and (local.get $v) (local.get $hm)))))
            (v128.store (local.get $o) (v128.or (local.get $c00) (local.get $c01)))
            (local.set $v (v128.load offset=0 (local.get $wq4)))
            (local.set $c12 (f32x4.add (local.get $c12) (f32x4.mul (local.get $a) (i32x4.shl (local.get $v) (i32.const 16)))))
            (local.set $c13 (f32x4.add (local.get $c13) (f32x4.mul (local.get $a) (v128.and (local.get $v) (local.get $hm)))))
            (local.set $v (v128.load offset=16 (local.get $wq4)))
            (local.set $c14 (f32x4.add (local.get $c14) (f32x4.mul (local.get $a) (i32x4.shl (local.get $v) (i32.const 16)))))
            (local.set $c15 (f32x4.add (local.get $c15) (f32x4.mul (local.get $a) (v128.and (local.get $v) (local.get $hm)))))
            (local.set $xa (i32.add (local.get $xa) (i32.const 4)))
            (local.set $wq (i32.add (local.get $wq) (i32.const 32)))
            (local.set $wq2 (i32.add (local.get $wq2) (i32.const 32)))
            (local.set $wq3 (i32.add (local.get $wq3) (i32.const 32)))
            (local.set $wq4 (i32.add (local.get $wq4) (i32.const 32)))
            (br $kb64_next)))
          )
          (else
          (block $ks64_done
            (loop $ks64_next
            (br_if $ks64_done (i32.ge_u (local.get $xa) (local.get $xend)))
            (local.set $a (v128.load32_splat (local.get $xa)))
            (local.set $v (v128.load offset=0 (local.get $wq)))
            (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $a) (v128.and (i32x4.shr_s (i32x4.shl (local.get $v) (i32.const 16)) (i32.const 3)) (local.get $fm)))))
            (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $a) (v128.and (i32x4.shr_s (local.get $v) (i32.const 3)) (local.get $fm)))))
            (local.set $v (v128.load offset=16 (local.get $wq)))
            (local.set $c02 (f32x4.add (local.get $c02) (f32x4.mul (local.get $a) (v128.and (i32x4.shr_s (i32x4.shl (local.get $v) (i32.const 16)) (i32.const 3)) (local.get $fm)))))
            (local.set $c03 (f32x4.add (local.get $c03) (f32x4.mul (local.get $a) (v128.and (i32x4.shr_s (local.get $v) (i32.const 3)) (local.get $fm)))))
            (v128.store (local.get $o) (v128.or (local.get $c00) (local.get $c01)))
            (local.set $v (v128.load offset=0 (local.get $wq2)))
            (local.set $c04 (f32x4.add (local.get $c04) (f32x4.mul (local.get $a) (v128.and (i32x4.shr_s (i32x4.shl (local.get $v) (i32.const 16)) (i32.const 3)) (local.get $fm)))))
            (local.set $c05 (f32x4.add (local.get $c05) (f32x4.mul (local.get $a) (v128.and (i32x4.shr_s (local.get $v) (i32.const 3)) (local.get $fm)))))
            (local.set $v (v128.load offset=16 (local.get $wq2)))
            (local.set $c06 (f32x4.add (local.get $c06) (f32x4.mul (local.get $a) (v128.and (i32x4.shr_s (i32x4.shl (local.get $v) (i32.const 16)) (i32.const 3)) (local.get $fm)))))
            (local.set $c07 (f32x4.add (local.get $c07) (f32x4.mul (local.get $a) (v128.and (i32x4.shr_s (local.get $v) (i32.const 3)) (local.get $fm)))))
            (local.set $v (v128.load offset=0 (local.get $wq3)))
            (local.set $c08 (f32x4.add (local.get $c08) (f32x4.mul (local.get $a) (v128.and (i32x4.shr_s (i32x4.shl (local.get $v) (i32.const 16)) (i32.const 3)) (local.get $fm)))))
            (local.set $c09 (f32x4.add (local.get $c09) (f32x4.mul (local.get $a) (v128.and (i32x4.shr_s (local.get $v) (i32.const 3)) (local.get $fm)))))
            (local.set $v (v128.load offset=16 (local.get $wq3)))
            (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $a) (v128.and (i32x4.shr_s (i32x4.shl (local.get $v) (i32.const 16)) (i32.const 3)) (local.get $fm)))))
            (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $a) (v128.and (i32x4.shr_s (local.get $v) (i32.const 3)) (local.get $fm)))))
            (v128.store (local.get $o) (v128.or (local.get $c00) (local.get $c01)))
            (local.set $v (v128.load offset=0 (local.get $wq4)))
            (local.set $c12 (f32x4.add (local.get $c12) (f32x4.mul (local.get $a) (v128.and (i32x4.shr_s (i32x4.shl (local.get $v) (i32.const 16)) (i32.const 3)) (local.get $fm)))))
            (local.set $c13 (f32x4.add (local.get $c13) (f32x4.mul (local.get $a) (v128.and (i32x4.shr_s (local.get $v) (i32.const 3)) (local.get $fm)))))
            (local.set $v (v128.load offset=16 (local.get $wq4)))
            (local.set $c14 (f32x4.add (local.get $c14) (f32x4.mul (local.get $a) (v128.and (i32x4.shr_s (i32x4.shl (local.get $v) (i32.const 16)) (i32.const 3)) (local.get $fm)))))
            (local.set $c15 (f32x4.add (local.get $c15) (f32x4.mul (local.get $a) (v128.and (i32x4.shr_s (local.get $v) (i32.const 3)) (local.get $fm)))))
            (local.set $xa (i32.add (local.get $xa) (i32.const 4)))
            (local.set $wq (i32.add (local.get $wq) (i32.const 32)))
            (local.set $wq2 (i32.add (local.get $wq2) (i32.const 32)))
            (local.set $wq3 (i32.add (local.get $wq3) (i32.const 32)))
            (local.set $wq4 (i32.add (local.get $wq4) (i32.const 32)))
            (br $ks64_next)))
          ))
        (if (local.get $bp) (then
          (local.set $c00 (f32x4.add (local.get $c00) (v128.load offset=0 (local.get $bp))))
          (local.set $c01 (f32x4.add (local.get $c01) (v128.load offset=16 (local.get $bp))))
          (local.set $c02 (f32x4.add (local.get $c02) (v128.load offset=32 (local.get $bp))))
          (local.set $c03 (f32x4.add (local.get $c03) (v128.load offset=48 (local.get $bp))))
          (local.set $c04 (f32x4.add (local.get $c04) (v128.load offset=64 (local.get $bp))))
          (local.set $c05 (f32x4.add (local.get $c05) (v128.load offset=80 (local.get $bp))))
          (local.set $c06 (f32x4.add (local.get $c06) (v128.load offset=96 (local.get $bp))))
          (local.set $c07 (f32x4.add (local.get $c07) (v128.load offset=112 (local.get $bp))))
          (local.set $c08 (f32x4.add (local.get $c08) (v128.load offset=128 (local.get $bp))))
          (local.set $c09 (f32x4.add (local.get $c09) (v128.load offset=144 (local.get $bp))))
          (local.set $c10 (f32x4.add (local.get $c10) (v128.load offset=160 (local.get $bp))))
          (local.set $c11 (f32x4.add (local.get $c11) (v128.load offset=176 (local.get $bp))))
          (local.set $c12 (f32x4.add (local.get $c12) (v128.load offset=192 (local.get $bp))))
          (local.set $c13 (f32x4.add (local.get $c13) (v128.load offset=208 (local.get $bp))))
          (local.set $c14 (f32x4.add (local.get $c14) (v128.load offset=224 (local.get $bp))))
          (local.set $c15 (f32x4.add (local.get $c15) (v128.load offset=240 (local.get $bp))))
        ))
        (if (local.get $relu) (then
          (local.set $c00 (v128.andnot (local.get $c00) (f32x4.lt (local.get $c00) (v128.const i32x4 0 0 0 0))))
          (local.set $c01 (v128.andnot (local.get $c01) (f32x4.lt (local.get $c01) (v128.const i32x4 0 0 0 0))))
          (local.set $c02 (v128.andnot (local.get $c02) (f32x4.lt (local.get $c02) (v128.const i32x4 0 0 0 0))))
          (local.set $c03 (v128.andnot (local.get $c03) (f32x4.lt (local.get $c03) (v128.const i32x4 0 0 0 0))))
          (local.set $c04 (v128.andnot (local.get $c04) (f32x4.lt (local.get $c04) (v128.const i32x4 0 0 0 0))))
          (local.set $c05 (v128.andnot (local.get $c05) (f32x4.lt (local.get $c05) (v128.const i32x4 0 0 0 0))))
          (local.set $c06 (v128.andnot (local.get $c06) (f32x4.lt (local.get $c06) (v128.const i32x4 0 0 0 0))))
          (local.set $c07 (v128.andnot (local.get $c07) (f32x4.lt (local.get $c07) (v128.const i32x4 0 0 0 0))))
          (local.set $c08 (v128.andnot (local.get $c08) (f32x4.lt (local.get $c08) (v128.const i32x4 0 0 0 0))))
          (local.set $c09 (v128.andnot (local.get $c09) (f32x4.lt (local.get $c09) (v128.const i32x4 0 0 0 0))))
          (local.set $c10 (v128.andnot (local.get $c10) (f32x4.lt (local.get $c10) (v128.const i32x4 0 0 0 0))))
          (local.set $c11 (v128.andnot (local.get $c11) (f32x4.lt (local.get $c11) (v128.const i32x4 0 0 0 0))))
          (local.set $c12 (v128.andnot (local.get $c12) (f32x4.lt (local.get $c12) (v128.const i32x4 0 0 0 0))))
          (local.set $c13 (v128.andnot (local.get $c13) (f32x4.lt (local.get $c13) (v128.const i32x4 0 0 0 0))))
          (local.set $c14 (v128.andnot (local.get $c14) (f32x4.lt (local.get $c14) (v128.const i32x4 0 0 0 0))))
          (local.set $c15 (v128.andnot (local.get $c15) (f32x4.lt (local.get $c15) (v128.const i32x4 0 0 0 0))))
        ))
        (v128.store offset=0 (local.get $o) (local.get $c00))
        (v128.store offset=16 (local.get $o) (local.get $c01))
        (v128.store offset=32 (local.get $o) (local.get $c02))
        (v128.store offset=48 (local.get $o) (local.get $c03))
        (v128.store offset=64 (local.get $o) (local.get $c04))
        (v128.store offset=80 (local.get $o) (local.get $c05))
        (v128.store offset=96 (local.get $o) (local.get $c06))
        (v128.store offset=112 (local.get $o) (local.get $c07))
        (v128.store offset=128 (local.get $o) (local.get $c08))
        (v128.store offset=144 (local.get $o) (local.get $c09))
        (v128.store offset=160 (local.get $o) (local.get $c10))
        (v128.store offset=176 (local.get $o) (local.get $c11))
        (v128.store offset=192 (local.get $o) (local.get $c12))
        (v128.store offset=208 (local.get $o) (local.get $c13))
        (v128.store offset=224 (local.get $o) (local.get $c14))
        (v128.store offset=240 (local.get $o) (local.get $c15))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br $f_next)))
      (block $t_done
        (loop $t_next
        (br_if $t_done (i32.gt_u (i32.add (local.get $p) (i32.const 2)) (local.get $p1)))
        (local.set $bp (select (i32.add (local.get $bias) (i32.shl (local.get $p) (i32.const 6))) (i32.const 0) (local.get $bias)))
        (local.set $o (i32.add (local.get $out) (i32.shl (local.get $p) (i32.const 6))))
        (local.set $wq (i32.add (local.get $w) (i32.mul (local.get $p) (local.get $ldw))))
        (local.set $wq2 (i32.add (local.get $wq) (local.get $ldw)))
        (local.set $xa (local.get $x))
        (local.set $c00 (v128.const i32x4 0 0 0 0))
        (local.set $c01 (v128.const i32x4 0 0 0 0))
        (local.set $c02 (v128.const i32x4 0 0 0 0))
        (local.set $c03 (v128.const i32x4 0 0 0 0))
        (local.set $c04 (v128.const i32x4 0 0 0 0))
        (local.set $c05 (v128.const i32x4 0 0 0 0))
        (local.set $c06 (v128.const i32x4 0 0 0 0))
        (local.set $c07 (v128.const i32x4 0 0 0 0))
        (if (i32.eq (local.get $code) (i32.const {{DT_bf16}}))
          (then
          (block $kb32_done
            (loop $kb32_next
            (br_if $kb32_done (i32.ge_u (local.get $xa) (local.get $xend)))
            (local.set $a (v128.load32_splat (local.get $xa)))
            (drop (i32.load offset=8192 (local.get $wq)))
            (drop (i32.load offset=8192 (local.get $wq2)))
            (local.set $v (v128.load (local.get $wq)))
            (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $a) (i32x4.shl (local.get $v) (i32.const 16)))))
            (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $a) (v128.and (local.get $v) (local.get $hm)))))
            (local.set $v (v128.load offset=16 (local.get $wq)))
            (local.set $c02 (f32x4.add (local.get $c02) (f32x4.mul (local.get $a) (i32x4.shl (local.get $v) (i32.const 16)))))
            (local.set $c03 (f32x4.add (local.get $c03) (f32x4.mul (local.get $a) (v128.and (local.get $v) (local.get $hm)))))
            (v128.store (local.get $o) (v128.or (local.get $c00) (local.get $c01)))
            (local.set $v (v128.load (local.get $wq2)))
            (local.set $c04 (f32x4.add (local.get $c04) (f32x4.mul (local.get $a) (i32x4.shl (local.get $v) (i32.const 16)))))
            (local.set $c05 (f32x4.add (local.get $c05) (f32x4.mul (local.get $a) (v128.and (local.get $v) (local.get $hm)))))
            (local.set $v (v128.load offset=16 (local.get $wq2)))
            (local.set $c06 (f32x4.add (local.get $c06) (f32x4.mul (local.get $a) (i32x4.shl (local.get $v) (i32.const 16)))))
            (local.set $c07 (f32x4.add (local.get $c07) (f32x4.mul (local.get $a) (v128.and (local.get $v) (local.get $hm)))))
            (local.set $xa (i32.add (local.get $xa) (i32.const 4)))
            (local.set $wq (i32.add (local.get $wq) (i32.const 32)))
            (local.set $wq2 (i32.add (local.get $wq2) (i32.const 32)))
            (br $kb32_next)))
          )
          (else
          (block $ks32_done
            (loop $ks32_next
            (br_if $ks32_done (i32.ge_u (local.get $xa) (local.get $xend)))
            (local.set $a (v128.load32_splat (local.get $xa)))
            (drop (i32.load offset=8192 (local.get $wq)))
            (drop (i32.load offset=8192 (local.get $wq2)))
            (local.set $v (v128.load (local.get $wq)))
            (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $a) (v128.and (i32x4.shr_s (i32x4.shl (local.get $v) (i32.const 16)) (i32.const 3)) (local.get $fm)))))
            (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $a) (v128.and (i32x4.shr_s (local.get $v) (i32.const 3)) (local.get $fm)))))
            (local.set $v (v128.load offset=16 (local.get $wq)))
            (local.set $c02 (f32x4.add (local.get $c02) (f32x4.mul (local.get $a) (v128.and (i32x4.shr_s (i32x4.shl (local.get $v) (i32.const 16)) (i32.const 3)) (local.get $fm)))))
            (local.set $c03 (f32x4.add (local.get $c03) (f32x4.mul (local.get $a) (v128.and (i32x4.shr_s (local.get $v) (i32.const 3)) (local.get $fm)))))
            (v128.store (local.get $o) (v128.or (local.get $c00) (local.get $c01)))
            (local.set $v (v128.load (local.get $wq2)))
            (local.set $c04 (f32x4.add (local.get $c04) (f32x4.mul (local.get $a) (v128.and (i32x4.shr_s (i32x4.shl (local.get $v) (i32.const 16)) (i32.const 3)) (local.get $fm)))))
            (local.set $c05 (f32x4.add (local.get $c05) (f32x4.mul (local.get $a) (v128.and (i32x4.shr_s (local.get $v) (i32.const 3)) (local.get $fm)))))
            (local.set $v (v128.load offset=16 (local.get $wq2)))
            (local.set $c06 (f32x4.add (local.get $c06) (f32x4.mul (local.get $a) (v128.and (i32x4.shr_s (i32x4.shl (local.get $v) (i32.const 16)) (i32.const 3)) (local.get $fm)))))
            (local.set $c07 (f32x4.add (local.get $c07) (f32x4.mul (local.get $a) (v128.and (i32x4.shr_s (local.get $v) (i32.const 3)) (local.get $fm)))))
            (local.set $xa (i32.add (local.get $xa) (i32.const 4)))
            (local.set $wq (i32.add (local.get $wq) (i32.const 32)))
            (local.set $wq2 (i32.add (local.get $wq2) (i32.const 32)))
            (br $ks32_next)))
          ))
        (if (local.get $bp) (then
          (local.set $c00 (f32x4.add (local.get $c00) (v128.load offset=0 (local.get $bp))))
          (local.set $c01 (f32x4.add (local.get $c01) (v128.load offset=16 (local.get $bp))))
          (local.set $c02 (f32x4.add (local.get $c02) (v128.load offset=32 (local.get $bp))))
          (local.set $c03 (f32x4.add (local.get $c03) (v128.load offset=48 (local.get $bp))))
          (local.set $c04 (f32x4.add (local.get $c04) (v128.load offset=64 (local.get $bp))))
          (local.set $c05 (f32x4.add (local.get $c05) (v128.load offset=80 (local.get $bp))))
          (local.set $c06 (f32x4.add (local.get $c06) (v128.load offset=96 (local.get $bp))))
          (local.set $c07 (f32x4.add (local.get $c07) (v128.load offset=112 (local.get $bp))))
        ))
        (if (local.get $relu) (then
          (local.set $c00 (v128.andnot (local.get $c00) (f32x4.lt (local.get $c00) (v128.const i32x4 0 0 0 0))))
          (local.set $c01 (v128.andnot (local.get $c01) (f32x4.lt (local.get $c01) (v128.const i32x4 0 0 0 0))))
          (local.set $c02 (v128.andnot (local.get $c02) (f32x4.lt (local.get $c02) (v128.const i32x4 0 0 0 0))))
          (local.set $c03 (v128.andnot (local.get $c03) (f32x4.lt (local.get $c03) (v128.const i32x4 0 0 0 0))))
          (local.set $c04 (v128.andnot (local.get $c04) (f32x4.lt (local.get $c04) (v128.const i32x4 0 0 0 0))))
          (local.set $c05 (v128.andnot (local.get $c05) (f32x4.lt (local.get $c05) (v128.const i32x4 0 0 0 0))))
          (local.set $c06 (v128.andnot (local.get $c06) (f32x4.lt (local.get $c06) (v128.const i32x4 0 0 0 0))))
          (local.set $c07 (v128.andnot (local.get $c07) (f32x4.lt (local.get $c07) (v128.const i32x4 0 0 0 0))))
        ))
        (v128.store offset=0 (local.get $o) (local.get $c00))
        (v128.store offset=16 (local.get $o) (local.get $c01))
        (v128.store offset=32 (local.get $o) (local.get $c02))
        (v128.store offset=48 (local.get $o) (local.get $c03))
        (v128.store offset=64 (local.get $o) (local.get $c04))
        (v128.store offset=80 (local.get $o) (local.get $c05))
        (v128.store offset=96 (local.get $o) (local.get $c06))
        (v128.store offset=112 (local.get $o) (local.get $c07))
        (local.set $p (i32.add (local.get $p) (i32.const 2)))
        (br $t_next)))))
    (block $q_done
      (loop $q_next
      (br_if $q_done (i32.ge_u (local.get $p) (local.get $p1)))
      (local.set $bp (select (i32.add (local.get $bias) (i32.shl (local.get $p) (i32.const 6))) (i32.const 0) (local.get $bias)))
      (local.set $o (i32.add (local.get $out) (i32.shl (local.get $p) (i32.const 6))))
      (local.set $wq (i32.add (local.get $w) (i32.mul (local.get $p) (local.get $ldw))))
      (local.set $xa (local.get $x))
      (local.set $c00 (v128.const i32x4 0 0 0 0))
      (local.set $c01 (v128.const i32x4 0 0 0 0))
      (local.set $c02 (v128.const i32x4 0 0 0 0))
      (local.set $c03 (v128.const i32x4 0 0 0 0))
      (if (i32.eq (local.get $code) (i32.const {{DT_bf16}}))
        (then
        (block $kb16_done
          (loop $kb16_next
          (br_if $kb16_done (i32.ge_u (local.get $xa) (local.get $xend)))
          (local.set $a (v128.load32_splat (local.get $xa)))
          (local.set $v (v128.load (local.get $wq)))
          (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $a) (i32x4.shl (local.get $v) (i32.const 16)))))
          (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $a) (v128.and (local.get $v) (local.get $hm)))))
          (local.set $v (v128.load offset=16 (local.get $wq)))
          (local.set $c02 (f32x4.add (local.get $c02) (f32x4.mul (local.get $a) (i32x4.shl (local.get $v) (i32.const 16)))))
          (local.set $c03 (f32x4.add (local.get $c03) (f32x4.mul (local.get $a) (v128.and (local.get $v) (local.get $hm)))))
          (local.set $xa (i32.add (local.get $xa) (i32.const 4)))
          (local.set $wq (i32.add (local.get $wq) (i32.const 32)))
          (br $kb16_next)))
        )
        (else (if (i32.eq (local.get $code) (i32.const {{DT_f16s}}))
          (then
          (block $ks16_done
            (loop $ks16_next
            (br_if $ks16_done (i32.ge_u (local.get $xa) (local.get $xend)))
            (local.set $a (v128.load32_splat (local.get $xa)))
            (local.set $v (v128.load (local.get $wq)))
            (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $a) (v128.and (i32x4.shr_s (i32x4.shl (local.get $v) (i32.const 16)) (i32.const 3)) (local.get $fm)))))
            (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $a) (v128.and (i32x4.shr_s (local.get $v) (i32.const 3)) (local.get $fm)))))
            (local.set $v (v128.load offset=16 (local.get $wq)))
            (local.set $c02 (f32x4.add (local.get $c02) (f32x4.mul (local.get $a) (v128.and (i32x4.shr_s (i32x4.shl (local.get $v) (i32.const 16)) (i32.const 3)) (local.get $fm)))))
            (local.set $c03 (f32x4.add (local.get $c03) (f32x4.mul (local.get $a) (v128.and (i32x4.shr_s (local.get $v) (i32.const 3)) (local.get $fm)))))
            (local.set $xa (i32.add (local.get $xa) (i32.const 4)))
            (local.set $wq (i32.add (local.get $wq) (i32.const 32)))
            (br $ks16_next)))
          )
          (else
          (block $kh16_done
            (loop $kh16_next
            (br_if $kh16_done (i32.ge_u (local.get $xa) (local.get $xend)))
            (local.set $a (v128.load32_splat (local.get $xa)))
            (local.set $v (v128.load (local.get $wq)))
            (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $a) (call $half (i32x4.shl (local.get $v) (i32.const 16))))))
            (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $a) (call $half (local.get $v)))))
            (local.set $v (v128.load offset=16 (local.get $wq)))
            (local.set $c02 (f32x4.add (local.get $c02) (f32x4.mul (local.get $a) (call $half (i32x4.shl (local.get $v) (i32.const 16))))))
            (local.set $c03 (f32x4.add (local.get $c03) (f32x4.mul (local.get $a) (call $half (local.get $v)))))
            (local.set $xa (i32.add (local.get $xa) (i32.const 4)))
            (local.set $wq (i32.add (local.get $wq) (i32.const 32)))
            (br $kh16_next)))
          ))))
      (if (local.get $bp) (then
        (local.set $c00 (f32x4.add (local.get $c00) (v128.load offset=0 (local.get $bp))))
        (local.set $c01 (f32x4.add (local.get $c01) (v128.load offset=16 (local.get $bp))))
        (local.set $c02 (f32x4.add (local.get $c02) (v128.load offset=32 (local.get $bp))))
        (local.set $c03 (f32x4.add (local.get $c03) (v128.load offset=48 (local.get $bp))))
      ))
      (if (local.get $relu) (then
        (local.set $c00 (v128.andnot (local.get $c00) (f32x4.lt (local.get $c00) (v128.const i32x4 0 0 0 0))))
        (local.set $c01 (v128.andnot (local.get $c01) (f32x4.lt (local.get $c01) (v128.const i32x4 0 0 0 0))))
        (local.set $c02 (v128.andnot (local.get $c02) (f32x4.lt (local.get $c02) (v128.const i32x4 0 0 0 0))))
        (local.set $c03 (v128.andnot (local.get $c03) (f32x4.lt (local.get $c03) (v128.const i32x4 0 0 0 0))))
      ))
      (v128.store offset=0 (local.get $o) (local.get $c00))
      (v128.store offset=16 (local.get $o) (local.get $c01))
      (v128.store offset=32 (local.get $o) (local.get $c02))
      (v128.store offset=48 (local.get $o) (local.get $c03))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $q_next)))
    (i32.const 1))

  ;; Exact sparse condensing (docs/numerics.md, docs/kernels.md): the sums of gemm for the
  ;; second map, reading only the rows of W whose hidden value is not zero for every token of a
  ;; tile. gemm adds x * w for k = 0, 1, ... from +0; a sum that starts at +0 is never -0 (x + y
  ;; is -0 only when both are), so adding (±0) * w = ±0 (w finite) leaves its bits as they are,
  ;; and leaving those terms out gives the same bits. A map with an infinite or NaN weight never
  ;; comes here.
  ;;
  ;; gather: the k in [0, K), increasing, where the hidden row (pair = 0: float k at h + 4k) or
  ;;   either row of a pair (pair = 1: floats at h + 8k and h + 8k + 4, gemm's pair layout) is
  ;;   not ±0 (a NaN is not zero), written as i32 from idx; returns how many. k by k, every k is
  ;;   stored and the count moves past it only when it is kept (no branch on the data). One row (the
  ;;   one-token path) goes four k at a time first: the four values' nonzero mask as four bits,
  ;;   all four k stored as one vector when all four are kept, none when none is, else each k
  ;;   stored and counted by its bit; the same list. A row writes nothing while every k so far
  ;;   is kept (the list would be 0, 1, 2, ...), and that run when its first zero comes: a row
  ;;   with none off returns K and writes nothing but its last K mod 4 k (which go k by k). Its
  ;;   callers read a list only when it is shorter than K, and the list region (4·K bytes) was
  ;;   out of cache by then (the first map's weights streamed past it): writing it cost about 10
  ;;   µs a call at 768 x 3072, where the k-by-k loop took about 4 ns a value.
  (func (export "gather") (param $h i32) (param $K i32) (param $pair i32) (param $idx i32) (result i32)
    (local $k i32) (local $n i32) (local $nz i32) (local $bits i32) (local $ks v128) (local $at i32)
    (if (i32.eqz (local.get $pair)) (then
      (local.set $ks (v128.const i32x4 0 1 2 3))
      (block $four_done
        (loop $four_next
          (br_if $four_done (i32.gt_u (i32.add (local.get $k) (i32.const 4)) (local.get $K)))
          (local.set $bits (i32x4.bitmask (i32x4.ne
            (v128.and (v128.load (i32.add (local.get $h) (i32.shl (local.get $k) (i32.const 2))))
                      (v128.const i32x4 0x7fffffff 0x7fffffff 0x7fffffff 0x7fffffff))
            (v128.const i32x4 0 0 0 0))))
          (local.set $at (i32.add (local.get $idx) (i32.shl (local.get $n) (i32.const 2))))
          (if (i32.eq (local.get $bits) (i32.const 15))
            (then
              (if (i32.ne (local.get $n) (local.get $k)) (then (v128.store (local.get $at) (local.get $ks))))
              (local.set $n (i32.add (local.get $n) (i32.const 4))))
            (else
              ;; The first zero: the run of kept k before it, unwritten so far.
              (if (i32.eq (local.get $n) (local.get $k)) (then (call $run (local.get $idx) (local.get $k))))
              (if (local.get $bits) (then
              (i32.store (local.get $at) (local.get $k))
              (local.set $n (i32.add (local.get $n) (i32.and (local.get $bits) (i32.const 1))))
              (i32.store (i32.add (local.get $idx) (i32.shl (local.get $n) (i32.const 2)))
                         (i32.add (local.get $k) (i32.const 1)))
              (local.set $n (i32.add (local.get $n) (i32.and (i32.shr_u (local.get $bits) (i32.const 1)) (i32.const 1))))
              (i32.store (i32.add (local.get $idx) (i32.shl (local.get $n) (i32.const 2)))
                         (i32.add (local.get $k) (i32.const 2)))
              (local.set $n (i32.add (local.get $n) (i32.and (i32.shr_u (local.get $bits) (i32.const 2)) (i32.const 1))))
              (i32.store (i32.add (local.get $idx) (i32.shl (local.get $n) (i32.const 2)))
                         (i32.add (local.get $k) (i32.const 3)))
              (local.set $n (i32.add (local.get $n) (i32.shr_u (local.get $bits) (i32.const 3))))))))
          (local.set $ks (i32x4.add (local.get $ks) (v128.const i32x4 4 4 4 4)))
          (local.set $k (i32.add (local.get $k) (i32.const 4)))
          (br $four_next)))
      ;; The k-by-k tail stores from idx + 4n: the run before it first.
      (if (i32.and (i32.eq (local.get $n) (local.get $k)) (i32.lt_u (local.get $k) (local.get $K)))
        (then (call $run (local.get $idx) (local.get $k))))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $k) (local.get $K)))
        (if (local.get $pair)
          (then (local.set $nz (i64.ne (i64.and (i64.load (i32.add (local.get $h) (i32.shl (local.get $k) (i32.const 3))))
                                                (i64.const 0x7fffffff7fffffff)) (i64.const 0))))
          (else (local.set $nz (i32.ne (i32.and (i32.load (i32.add (local.get $h) (i32.shl (local.get $k) (i32.const 2))))
                                                (i32.const 0x7fffffff)) (i32.const 0)))))
        (i32.store (i32.add (local.get $idx) (i32.shl (local.get $n) (i32.const 2))) (local.get $k))
        (local.set $n (i32.add (local.get $n) (local.get $nz)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $next)))
    (local.get $n))

  ;; run: the list 0, 1, .., n-1 as i32 from idx (n a multiple of 4): gather's run of kept k.
  (func $run (param $idx i32) (param $n i32)
    (local $i i32) (local $ks v128)
    (local.set $ks (v128.const i32x4 0 1 2 3))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (v128.store (i32.add (local.get $idx) (i32.shl (local.get $i) (i32.const 2))) (local.get $ks))
        (local.set $ks (i32x4.add (local.get $ks) (v128.const i32x4 4 4 4 4)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $next))))

  ;; gemmsparse: gemm's sums without relu, for one pair of rows of x (pair = 1, gemm's pair
  ;;   layout from x: a 2 x 16 tile a panel) or one row (pair = 0, plain from x: 1 x 32 tiles
  ;;   over two panels, then 1 x 16), over the n values of k listed (increasing) as i32 from idx,
  ;;   for panels p0 .. p1-1 of w (panel p at w + p * ldw, row k of it at + 64k: a thread's
  ;;   scratch panels, which panelrows copied out of a map laid out by row); + bias (16-padded, or
  ;;   0); out: plain rows, the second of a pair at out + ldo, panel p at byte 64p.
  (func (export "gemmsparse")
    (param $x i32) (param $pair i32) (param $w i32) (param $ldw i32) (param $p0 i32) (param $p1 i32)
    (param $bias i32) (param $out i32) (param $ldo i32) (param $idx i32) (param $n i32)
    (local $p i32) (local $i i32) (local $iend i32) (local $k i32) (local $wp i32) (local $wq i32)
    (local $bp i32) (local $o i32)
    (local $a v128) (local $b v128) (local $w0 v128) (local $w1 v128) (local $w2 v128) (local $w3 v128)
    (local $c00 v128) (local $c01 v128) (local $c02 v128) (local $c03 v128) (local $c04 v128) (local $c05 v128) (local $c06 v128) (local $c07 v128) (local $c10 v128) (local $c11 v128) (local $c12 v128) (local $c13 v128)
    (local.set $iend (i32.add (local.get $idx) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $p (local.get $p0))
    (if (local.get $pair)
      (then
      (block $pp_done
        (loop $pp_next
        (br_if $pp_done (i32.ge_u (local.get $p) (local.get $p1)))
        (local.set $bp (select (i32.add (local.get $bias) (i32.shl (local.get $p) (i32.const 6)))
                               (i32.const 0) (local.get $bias)))
        (local.set $wp (i32.add (local.get $w) (i32.mul (local.get $p) (local.get $ldw))))
        (local.set $o (i32.add (local.get $out) (i32.shl (local.get $p) (i32.const 6))))
        (local.set $c00 (v128.const i32x4 0 0 0 0))
        (local.set $c01 (v128.const i32x4 0 0 0 0))
        (local.set $c02 (v128.const i32x4 0 0 0 0))
        (local.set $c03 (v128.const i32x4 0 0 0 0))
        (local.set $c10 (v128.const i32x4 0 0 0 0))
        (local.set $c11 (v128.const i32x4 0 0 0 0))
        (local.set $c12 (v128.const i32x4 0 0 0 0))
        (local.set $c13 (v128.const i32x4 0 0 0 0))
        (local.set $i (local.get $idx))
        (block $ks2_done
          (loop $ks2_next
          (br_if $ks2_done (i32.ge_u (local.get $i) (local.get $iend)))
          (local.set $k (i32.load (local.get $i)))
          (local.set $wq (i32.add (local.get $wp) (i32.shl (local.get $k) (i32.const 6))))
          (local.set $w0 (v128.load offset=0 (local.get $wq)))
          (local.set $w1 (v128.load offset=16 (local.get $wq)))
          (local.set $w2 (v128.load offset=32 (local.get $wq)))
          (local.set $w3 (v128.load offset=48 (local.get $wq)))
          (local.set $a (v128.load32_splat (i32.add (local.get $x) (i32.shl (local.get $k) (i32.const 3)))))
          (local.set $b (v128.load32_splat offset=4 (i32.add (local.get $x) (i32.shl (local.get $k) (i32.const 3)))))
          (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $a) (local.get $w0))))
          (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $a) (local.get $w1))))
          (local.set $c02 (f32x4.add (local.get $c02) (f32x4.mul (local.get $a) (local.get $w2))))
          (local.set $c03 (f32x4.add (local.get $c03) (f32x4.mul (local.get $a) (local.get $w3))))
          (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $b) (local.get $w0))))
          (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $b) (local.get $w1))))
          (local.set $c12 (f32x4.add (local.get $c12) (f32x4.mul (local.get $b) (local.get $w2))))
          (local.set $c13 (f32x4.add (local.get $c13) (f32x4.mul (local.get $b) (local.get $w3))))
          (local.set $i (i32.add (local.get $i) (i32.const 4)))
          (br $ks2_next)))
        (if (local.get $bp) (then
          (local.set $c00 (f32x4.add (local.get $c00) (v128.load offset=0 (local.get $bp))))
          (local.set $c01 (f32x4.add (local.get $c01) (v128.load offset=16 (local.get $bp))))
          (local.set $c02 (f32x4.add (local.get $c02) (v128.load offset=32 (local.get $bp))))
          (local.set $c03 (f32x4.add (local.get $c03) (v128.load offset=48 (local.get $bp))))
          (local.set $c10 (f32x4.add (local.get $c10) (v128.load offset=0 (local.get $bp))))
          (local.set $c11 (f32x4.add (local.get $c11) (v128.load offset=16 (local.get $bp))))
          (local.set $c12 (f32x4.add (local.get $c12) (v128.load offset=32 (local.get $bp))))
          (local.set $c13 (f32x4.add (local.get $c13) (v128.load offset=48 (local.get $bp))))
        ))
        (v128.store offset=0 (local.get $o) (local.get $c00))
        (v128.store offset=16 (local.get $o) (local.get $c01))
        (v128.store offset=32 (local.get $o) (local.get $c02))
        (v128.store offset=48 (local.get $o) (local.get $c03))
        (v128.store offset=0 (i32.add (local.get $o) (local.get $ldo)) (local.get $c10))
        (v128.store offset=16 (i32.add (local.get $o) (local.get $ldo)) (local.get $c11))
        (v128.store offset=32 (i32.add (local.get $o) (local.get $ldo)) (local.get $c12))
        (v128.store offset=48 (i32.add (local.get $o) (local.get $ldo)) (local.get $c13))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $pp_next)))
      )
      (else
      (block $pt_done
        (loop $pt_next
        (br_if $pt_done (i32.gt_u (i32.add (local.get $p) (i32.const 2)) (local.get $p1)))
        (local.set $bp (select (i32.add (local.get $bias) (i32.shl (local.get $p) (i32.const 6)))
                               (i32.const 0) (local.get $bias)))
        (local.set $wp (i32.add (local.get $w) (i32.mul (local.get $p) (local.get $ldw))))
        (local.set $o (i32.add (local.get $out) (i32.shl (local.get $p) (i32.const 6))))
        (local.set $c00 (v128.const i32x4 0 0 0 0))
        (local.set $c01 (v128.const i32x4 0 0 0 0))
        (local.set $c02 (v128.const i32x4 0 0 0 0))
        (local.set $c03 (v128.const i32x4 0 0 0 0))
        (local.set $c04 (v128.const i32x4 0 0 0 0))
        (local.set $c05 (v128.const i32x4 0 0 0 0))
        (local.set $c06 (v128.const i32x4 0 0 0 0))
        (local.set $c07 (v128.const i32x4 0 0 0 0))
        (local.set $i (local.get $idx))
        (block $ks32_done
          (loop $ks32_next
          (br_if $ks32_done (i32.ge_u (local.get $i) (local.get $iend)))
          (local.set $k (i32.load (local.get $i)))
          (local.set $wq (i32.add (local.get $wp) (i32.shl (local.get $k) (i32.const 6))))
          (local.set $a (v128.load32_splat (i32.add (local.get $x) (i32.shl (local.get $k) (i32.const 2)))))
          (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $a) (v128.load offset=0 (local.get $wq)))))
          (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $a) (v128.load offset=16 (local.get $wq)))))
          (local.set $c02 (f32x4.add (local.get $c02) (f32x4.mul (local.get $a) (v128.load offset=32 (local.get $wq)))))
          (local.set $c03 (f32x4.add (local.get $c03) (f32x4.mul (local.get $a) (v128.load offset=48 (local.get $wq)))))
          (local.set $wq (i32.add (local.get $wq) (local.get $ldw)))
          (local.set $c04 (f32x4.add (local.get $c04) (f32x4.mul (local.get $a) (v128.load offset=0 (local.get $wq)))))
          (local.set $c05 (f32x4.add (local.get $c05) (f32x4.mul (local.get $a) (v128.load offset=16 (local.get $wq)))))
          (local.set $c06 (f32x4.add (local.get $c06) (f32x4.mul (local.get $a) (v128.load offset=32 (local.get $wq)))))
          (local.set $c07 (f32x4.add (local.get $c07) (f32x4.mul (local.get $a) (v128.load offset=48 (local.get $wq)))))
          (local.set $i (i32.add (local.get $i) (i32.const 4)))
          (br $ks32_next)))
        (if (local.get $bp) (then
          (local.set $c00 (f32x4.add (local.get $c00) (v128.load offset=0 (local.get $bp))))
          (local.set $c01 (f32x4.add (local.get $c01) (v128.load offset=16 (local.get $bp))))
          (local.set $c02 (f32x4.add (local.get $c02) (v128.load offset=32 (local.get $bp))))
          (local.set $c03 (f32x4.add (local.get $c03) (v128.load offset=48 (local.get $bp))))
          (local.set $c04 (f32x4.add (local.get $c04) (v128.load offset=64 (local.get $bp))))
          (local.set $c05 (f32x4.add (local.get $c05) (v128.load offset=80 (local.get $bp))))
          (local.set $c06 (f32x4.add (local.get $c06) (v128.load offset=96 (local.get $bp))))
          (local.set $c07 (f32x4.add (local.get $c07) (v128.load offset=112 (local.get $bp))))
        ))
        (v128.store offset=0 (local.get $o) (local.get $c00))
        (v128.store offset=16 (local.get $o) (local.get $c01))
        (v128.store offset=32 (local.get $o) (local.get $c02))
        (v128.store offset=48 (local.get $o) (local.get $c03))
        (v128.store offset=64 (local.get $o) (local.get $c04))
        (v128.store offset=80 (local.get $o) (local.get $c05))
        (v128.store offset=96 (local.get $o) (local.get $c06))
        (v128.store offset=112 (local.get $o) (local.get $c07))
        (local.set $p (i32.add (local.get $p) (i32.const 2)))
        (br $pt_next)))
      (if (i32.lt_u (local.get $p) (local.get $p1)) (then
        (local.set $bp (select (i32.add (local.get $bias) (i32.shl (local.get $p) (i32.const 6)))
                               (i32.const 0) (local.get $bias)))
        (local.set $wp (i32.add (local.get $w) (i32.mul (local.get $p) (local.get $ldw))))
        (local.set $o (i32.add (local.get $out) (i32.shl (local.get $p) (i32.const 6))))
        (local.set $c00 (v128.const i32x4 0 0 0 0))
        (local.set $c01 (v128.const i32x4 0 0 0 0))
        (local.set $c02 (v128.const i32x4 0 0 0 0))
        (local.set $c03 (v128.const i32x4 0 0 0 0))
        (local.set $i (local.get $idx))
        (block $ks16_done
          (loop $ks16_next
          (br_if $ks16_done (i32.ge_u (local.get $i) (local.get $iend)))
          (local.set $k (i32.load (local.get $i)))
          (local.set $wq (i32.add (local.get $wp) (i32.shl (local.get $k) (i32.const 6))))
          (local.set $a (v128.load32_splat (i32.add (local.get $x) (i32.shl (local.get $k) (i32.const 2)))))
          (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $a) (v128.load offset=0 (local.get $wq)))))
          (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $a) (v128.load offset=16 (local.get $wq)))))
          (local.set $c02 (f32x4.add (local.get $c02) (f32x4.mul (local.get $a) (v128.load offset=32 (local.get $wq)))))
          (local.set $c03 (f32x4.add (local.get $c03) (f32x4.mul (local.get $a) (v128.load offset=48 (local.get $wq)))))
          (local.set $i (i32.add (local.get $i) (i32.const 4)))
          (br $ks16_next)))
        (if (local.get $bp) (then
          (local.set $c00 (f32x4.add (local.get $c00) (v128.load offset=0 (local.get $bp))))
          (local.set $c01 (f32x4.add (local.get $c01) (v128.load offset=16 (local.get $bp))))
          (local.set $c02 (f32x4.add (local.get $c02) (v128.load offset=32 (local.get $bp))))
          (local.set $c03 (f32x4.add (local.get $c03) (v128.load offset=48 (local.get $bp))))
        ))
        (v128.store offset=0 (local.get $o) (local.get $c00))
        (v128.store offset=16 (local.get $o) (local.get $c01))
        (v128.store offset=32 (local.get $o) (local.get $c02))
        (v128.store offset=48 (local.get $o) (local.get $c03))
      ))
      )))

  ;; gemvhalves: the second map's sums for one token (x plain: k at x + 4k) on float32 weights
  ;;   laid out by row in two groups (layout.ts's `byRow` and `rowGroups`: each group a run of K
  ;;   rows of its own panels, lds bytes a row, the second group K * lds bytes after the first). The caller's panels are two segments:
  ;;   a, na panels of output from oa (bias from ba, or 0 for none) whose row k starts at
  ;;   wa + k * lds, and b likewise (either may be empty). Over the n rows listed (increasing) as
  ;;   i32 from idx, or with idx = 0 over k = 0 .. n-1. Each element is gemm's: +0, then
  ;;   acc + x_k * w_kj for k increasing (each product and sum rounded, never fused), then + bias.
  ;;   The partial sums live in out (in L1); each 32 columns (1 x 32, eight accumulators; a
  ;;   segment's last odd panel 1 x 16) are loaded, get their products and are stored, the two
  ;;   segments' tiles taking turns, so the weights come from two places a group apart, each read
  ;;   front to back: at every row (0%) like gemm's two panels. One row at a time (`eight` = 0),
  ;;   or with `eight` blocks of eight listed rows per tile (fewer partial sums; eight runs side
  ;;   by side in each group). Measured at one token of 768 x 3072 from memory (one thread, busy
  ;;   2-core machine), against gemm's 1 x 32 tile on panels: one group (whole rows) read four
  ;;   rows a block at 0.80x to 0.83x, and a row at a time, or rows a few apart taking the
  ;;   columns in turns, no faster; two groups a row at a time 0.95x to 1.03x, four groups 1.04x
  ;;   to 1.09x. With half the rows listed, two groups in blocks of four ran at 0.92x to 0.95x
  ;;   the speed of one group (runs half as long), four groups about 0.85x, a row at a time about
  ;;   0.85x; blocks of eight 6% to 9% faster than four, of 16 alike, 2 and 32 slower; with 3/4
  ;;   of the rows listed, blocks of eight 1.1x a row at a time. Interleaving the groups a row at
  ;;   a time instead of a tile (group after group for each row) was 7% slower, and reading ahead
  ;;   by loads (a word each line of the rows a few blocks on) 13% slower.
  (func (export "gemvhalves")
    (param $x i32) (param $wa i32) (param $wb i32) (param $lds i32) (param $oa i32) (param $ob i32)
    (param $na i32) (param $nb i32) (param $ba i32) (param $bb i32) (param $idx i32) (param $n i32) (param $eight i32)
    (local $i i32) (local $j i32) (local $g1 i32) (local $k i32) (local $o i32) (local $q i32) (local $t i32)
    (local $ta i32) (local $tb i32) (local $tm i32) (local $ra i32) (local $rb i32) (local $e i32)
    (local $a v128)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128) (local $c4 v128) (local $c5 v128) (local $c6 v128) (local $c7 v128)
    ;; Byte offsets of each segment's last 32-column tile's end, and of the longer one.
    (local.set $ta (i32.shl (i32.shr_u (local.get $na) (i32.const 1)) (i32.const 7)))
    (local.set $tb (i32.shl (i32.shr_u (local.get $nb) (i32.const 1)) (i32.const 7)))
    (local.set $tm (select (local.get $ta) (local.get $tb) (i32.gt_u (local.get $ta) (local.get $tb))))
    ;; From +0.
    (local.set $o (local.get $oa))
    (local.set $e (i32.add (local.get $oa) (i32.shl (local.get $na) (i32.const 6))))
    (block $za_done
      (loop $za_next
        (br_if $za_done (i32.ge_u (local.get $o) (local.get $e)))
        (v128.store (local.get $o) (v128.const i32x4 0 0 0 0))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $za_next)))
    (local.set $o (local.get $ob))
    (local.set $e (i32.add (local.get $ob) (i32.shl (local.get $nb) (i32.const 6))))
    (block $zb_done
      (loop $zb_next
        (br_if $zb_done (i32.ge_u (local.get $o) (local.get $e)))
        (v128.store (local.get $o) (v128.const i32x4 0 0 0 0))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $zb_next)))
    (if (local.get $eight) (then
      (block $b_done
        (loop $b_next
        (br_if $b_done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $g1 (select (i32.add (local.get $i) (i32.const 8)) (local.get $n)
                               (i32.lt_u (i32.add (local.get $i) (i32.const 8)) (local.get $n))))
        (local.set $t (i32.const 0))
        (block $t_done
          (loop $t_next
          (br_if $t_done (i32.ge_u (local.get $t) (local.get $tm)))
          (if (i32.lt_u (local.get $t) (local.get $ta)) (then
            (local.set $o (i32.add (local.get $oa) (local.get $t)))
            (local.set $c0 (v128.load offset=0 (local.get $o)))
            (local.set $c1 (v128.load offset=16 (local.get $o)))
            (local.set $c2 (v128.load offset=32 (local.get $o)))
            (local.set $c3 (v128.load offset=48 (local.get $o)))
            (local.set $c4 (v128.load offset=64 (local.get $o)))
            (local.set $c5 (v128.load offset=80 (local.get $o)))
            (local.set $c6 (v128.load offset=96 (local.get $o)))
            (local.set $c7 (v128.load offset=112 (local.get $o)))
            (local.set $j (local.get $i))
            (block $k_done_a32
              (loop $k_next_a32
              (br_if $k_done_a32 (i32.ge_u (local.get $j) (local.get $g1)))
              (local.set $k (select (i32.load (i32.add (local.get $idx) (i32.shl (local.get $j) (i32.const 2))))
                                    (local.get $j) (local.get $idx)))
              (local.set $a (v128.load32_splat (i32.add (local.get $x) (i32.shl (local.get $k) (i32.const 2)))))
              (local.set $q (i32.add (i32.add (local.get $wa) (i32.mul (local.get $k) (local.get $lds))) (local.get $t)))
              (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $a) (v128.load offset=0 (local.get $q)))))
              (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $a) (v128.load offset=16 (local.get $q)))))
              (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $a) (v128.load offset=32 (local.get $q)))))
              (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $a) (v128.load offset=48 (local.get $q)))))
              (local.set $c4 (f32x4.add (local.get $c4) (f32x4.mul (local.get $a) (v128.load offset=64 (local.get $q)))))
              (local.set $c5 (f32x4.add (local.get $c5) (f32x4.mul (local.get $a) (v128.load offset=80 (local.get $q)))))
              (local.set $c6 (f32x4.add (local.get $c6) (f32x4.mul (local.get $a) (v128.load offset=96 (local.get $q)))))
              (local.set $c7 (f32x4.add (local.get $c7) (f32x4.mul (local.get $a) (v128.load offset=112 (local.get $q)))))
              (local.set $j (i32.add (local.get $j) (i32.const 1)))
              (br $k_next_a32)))
            (v128.store offset=0 (local.get $o) (local.get $c0))
            (v128.store offset=16 (local.get $o) (local.get $c1))
            (v128.store offset=32 (local.get $o) (local.get $c2))
            (v128.store offset=48 (local.get $o) (local.get $c3))
            (v128.store offset=64 (local.get $o) (local.get $c4))
            (v128.store offset=80 (local.get $o) (local.get $c5))
            (v128.store offset=96 (local.get $o) (local.get $c6))
            (v128.store offset=112 (local.get $o) (local.get $c7))
          ))
          (if (i32.lt_u (local.get $t) (local.get $tb)) (then
            (local.set $o (i32.add (local.get $ob) (local.get $t)))
            (local.set $c0 (v128.load offset=0 (local.get $o)))
            (local.set $c1 (v128.load offset=16 (local.get $o)))
            (local.set $c2 (v128.load offset=32 (local.get $o)))
            (local.set $c3 (v128.load offset=48 (local.get $o)))
            (local.set $c4 (v128.load offset=64 (local.get $o)))
            (local.set $c5 (v128.load offset=80 (local.get $o)))
            (local.set $c6 (v128.load offset=96 (local.get $o)))
            (local.set $c7 (v128.load offset=112 (local.get $o)))
            (local.set $j (local.get $i))
            (block $k_done_b32
              (loop $k_next_b32
              (br_if $k_done_b32 (i32.ge_u (local.get $j) (local.get $g1)))
              (local.set $k (select (i32.load (i32.add (local.get $idx) (i32.shl (local.get $j) (i32.const 2))))
                                    (local.get $j) (local.get $idx)))
              (local.set $a (v128.load32_splat (i32.add (local.get $x) (i32.shl (local.get $k) (i32.const 2)))))
              (local.set $q (i32.add (i32.add (local.get $wb) (i32.mul (local.get $k) (local.get $lds))) (local.get $t)))
              (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $a) (v128.load offset=0 (local.get $q)))))
              (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $a) (v128.load offset=16 (local.get $q)))))
              (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $a) (v128.load offset=32 (local.get $q)))))
              (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $a) (v128.load offset=48 (local.get $q)))))
              (local.set $c4 (f32x4.add (local.get $c4) (f32x4.mul (local.get $a) (v128.load offset=64 (local.get $q)))))
              (local.set $c5 (f32x4.add (local.get $c5) (f32x4.mul (local.get $a) (v128.load offset=80 (local.get $q)))))
              (local.set $c6 (f32x4.add (local.get $c6) (f32x4.mul (local.get $a) (v128.load offset=96 (local.get $q)))))
              (local.set $c7 (f32x4.add (local.get $c7) (f32x4.mul (local.get $a) (v128.load offset=112 (local.get $q)))))
              (local.set $j (i32.add (local.get $j) (i32.const 1)))
              (br $k_next_b32)))
            (v128.store offset=0 (local.get $o) (local.get $c0))
            (v128.store offset=16 (local.get $o) (local.get $c1))
            (v128.store offset=32 (local.get $o) (local.get $c2))
            (v128.store offset=48 (local.get $o) (local.get $c3))
            (v128.store offset=64 (local.get $o) (local.get $c4))
            (v128.store offset=80 (local.get $o) (local.get $c5))
            (v128.store offset=96 (local.get $o) (local.get $c6))
            (v128.store offset=112 (local.get $o) (local.get $c7))
          ))
          (local.set $t (i32.add (local.get $t) (i32.const 128)))
          (br $t_next)))
        (if (i32.and (local.get $na) (i32.const 1)) (then
          (local.set $t (local.get $ta))
          (local.set $o (i32.add (local.get $oa) (local.get $t)))
          (local.set $c0 (v128.load offset=0 (local.get $o)))
          (local.set $c1 (v128.load offset=16 (local.get $o)))
          (local.set $c2 (v128.load offset=32 (local.get $o)))
          (local.set $c3 (v128.load offset=48 (local.get $o)))
          (local.set $j (local.get $i))
          (block $k_done_a16
            (loop $k_next_a16
            (br_if $k_done_a16 (i32.ge_u (local.get $j) (local.get $g1)))
            (local.set $k (select (i32.load (i32.add (local.get $idx) (i32.shl (local.get $j) (i32.const 2))))
                                  (local.get $j) (local.get $idx)))
            (local.set $a (v128.load32_splat (i32.add (local.get $x) (i32.shl (local.get $k) (i32.const 2)))))
            (local.set $q (i32.add (i32.add (local.get $wa) (i32.mul (local.get $k) (local.get $lds))) (local.get $t)))
            (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $a) (v128.load offset=0 (local.get $q)))))
            (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $a) (v128.load offset=16 (local.get $q)))))
            (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $a) (v128.load offset=32 (local.get $q)))))
            (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $a) (v128.load offset=48 (local.get $q)))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $k_next_a16)))
          (v128.store offset=0 (local.get $o) (local.get $c0))
          (v128.store offset=16 (local.get $o) (local.get $c1))
          (v128.store offset=32 (local.get $o) (local.get $c2))
          (v128.store offset=48 (local.get $o) (local.get $c3))
        ))
        (if (i32.and (local.get $nb) (i32.const 1)) (then
          (local.set $t (local.get $tb))
          (local.set $o (i32.add (local.get $ob) (local.get $t)))
          (local.set $c0 (v128.load offset=0 (local.get $o)))
          (local.set $c1 (v128.load offset=16 (local.get $o)))
          (local.set $c2 (v128.load offset=32 (local.get $o)))
          (local.set $c3 (v128.load offset=48 (local.get $o)))
          (local.set $j (local.get $i))
          (block $k_done_b16
            (loop $k_next_b16
            (br_if $k_done_b16 (i32.ge_u (local.get $j) (local.get $g1)))
            (local.set $k (select (i32.load (i32.add (local.get $idx) (i32.shl (local.get $j) (i32.const 2))))
                                  (local.get $j) (local.get $idx)))
            (local.set $a (v128.load32_splat (i32.add (local.get $x) (i32.shl (local.get $k) (i32.const 2)))))
            (local.set $q (i32.add (i32.add (local.get $wb) (i32.mul (local.get $k) (local.get $lds))) (local.get $t)))
            (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $a) (v128.load offset=0 (local.get $q)))))
            (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $a) (v128.load offset=16 (local.get $q)))))
            (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $a) (v128.load offset=32 (local.get $q)))))
            (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $a) (v128.load offset=48 (local.get $q)))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $k_next_b16)))
          (v128.store offset=0 (local.get $o) (local.get $c0))
          (v128.store offset=16 (local.get $o) (local.get $c1))
          (v128.store offset=32 (local.get $o) (local.get $c2))
          (v128.store offset=48 (local.get $o) (local.get $c3))
        ))
        (local.set $i (local.get $g1))
        (br $b_next))))
    (else
      (block $r_done
        (loop $r_next
        (br_if $r_done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $k (select (i32.load (i32.add (local.get $idx) (i32.shl (local.get $i) (i32.const 2))))
                              (local.get $i) (local.get $idx)))
        (local.set $a (v128.load32_splat (i32.add (local.get $x) (i32.shl (local.get $k) (i32.const 2)))))
        (local.set $ra (i32.add (local.get $wa) (i32.mul (local.get $k) (local.get $lds))))
        (local.set $rb (i32.add (local.get $wb) (i32.mul (local.get $k) (local.get $lds))))
        (local.set $t (i32.const 0))
        (block $t_done
          (loop $t_next
          (br_if $t_done (i32.ge_u (local.get $t) (local.get $tm)))
          (if (i32.lt_u (local.get $t) (local.get $ta)) (then
            (local.set $o (i32.add (local.get $oa) (local.get $t)))
            (local.set $q (i32.add (local.get $ra) (local.get $t)))
            (local.set $c0 (f32x4.add (v128.load offset=0 (local.get $o)) (f32x4.mul (local.get $a) (v128.load offset=0 (local.get $q)))))
            (local.set $c1 (f32x4.add (v128.load offset=16 (local.get $o)) (f32x4.mul (local.get $a) (v128.load offset=16 (local.get $q)))))
            (local.set $c2 (f32x4.add (v128.load offset=32 (local.get $o)) (f32x4.mul (local.get $a) (v128.load offset=32 (local.get $q)))))
            (local.set $c3 (f32x4.add (v128.load offset=48 (local.get $o)) (f32x4.mul (local.get $a) (v128.load offset=48 (local.get $q)))))
            (local.set $c4 (f32x4.add (v128.load offset=64 (local.get $o)) (f32x4.mul (local.get $a) (v128.load offset=64 (local.get $q)))))
            (local.set $c5 (f32x4.add (v128.load offset=80 (local.get $o)) (f32x4.mul (local.get $a) (v128.load offset=80 (local.get $q)))))
            (local.set $c6 (f32x4.add (v128.load offset=96 (local.get $o)) (f32x4.mul (local.get $a) (v128.load offset=96 (local.get $q)))))
            (local.set $c7 (f32x4.add (v128.load offset=112 (local.get $o)) (f32x4.mul (local.get $a) (v128.load offset=112 (local.get $q)))))
            (v128.store offset=0 (local.get $o) (local.get $c0))
            (v128.store offset=16 (local.get $o) (local.get $c1))
            (v128.store offset=32 (local.get $o) (local.get $c2))
            (v128.store offset=48 (local.get $o) (local.get $c3))
            (v128.store offset=64 (local.get $o) (local.get $c4))
            (v128.store offset=80 (local.get $o) (local.get $c5))
            (v128.store offset=96 (local.get $o) (local.get $c6))
            (v128.store offset=112 (local.get $o) (local.get $c7))
          ))
          (if (i32.lt_u (local.get $t) (local.get $tb)) (then
            (local.set $o (i32.add (local.get $ob) (local.get $t)))
            (local.set $q (i32.add (local.get $rb) (local.get $t)))
            (local.set $c0 (f32x4.add (v128.load offset=0 (local.get $o)) (f32x4.mul (local.get $a) (v128.load offset=0 (local.get $q)))))
            (local.set $c1 (f32x4.add (v128.load offset=16 (local.get $o)) (f32x4.mul (local.get $a) (v128.load offset=16 (local.get $q)))))
            (local.set $c2 (f32x4.add (v128.load offset=32 (local.get $o)) (f32x4.mul (local.get $a) (v128.load offset=32 (local.get $q)))))
            (local.set $c3 (f32x4.add (v128.load offset=48 (local.get $o)) (f32x4.mul (local.get $a) (v128.load offset=48 (local.get $q)))))
            (local.set $c4 (f32x4.add (v128.load offset=64 (local.get $o)) (f32x4.mul (local.get $a) (v128.load offset=64 (local.get $q)))))
            (local.set $c5 (f32x4.add (v128.load offset=80 (local.get $o)) (f32x4.mul (local.get $a) (v128.load offset=80 (local.get $q)))))
            (local.set $c6 (f32x4.add (v128.load offset=96 (local.get $o)) (f32x4.mul (local.get $a) (v128.load offset=96 (local.get $q)))))
            (local.set $c7 (f32x4.add (v128.load offset=112 (local.get $o)) (f32x4.mul (local.get $a) (v128.load offset=112 (local.get $q)))))
            (v128.store offset=0 (local.get $o) (local.get $c0))
            (v128.store offset=16 (local.get $o) (local.get $c1))
            (v128.store offset=32 (local.get $o) (local.get $c2))
            (v128.store offset=48 (local.get $o) (local.get $c3))
            (v128.store offset=64 (local.get $o) (local.get $c4))
            (v128.store offset=80 (local.get $o) (local.get $c5))
            (v128.store offset=96 (local.get $o) (local.get $c6))
            (v128.store offset=112 (local.get $o) (local.get $c7))
          ))
          (local.set $t (i32.add (local.get $t) (i32.const 128)))
          (br $t_next)))
        (if (i32.and (local.get $na) (i32.const 1)) (then
          (local.set $t (local.get $ta))
          (local.set $o (i32.add (local.get $oa) (local.get $t)))
          (local.set $q (i32.add (local.get $ra) (local.get $t)))
          (local.set $c0 (f32x4.add (v128.load offset=0 (local.get $o)) (f32x4.mul (local.get $a) (v128.load offset=0 (local.get $q)))))
          (local.set $c1 (f32x4.add (v128.load offset=16 (local.get $o)) (f32x4.mul (local.get $a) (v128.load offset=16 (local.get $q)))))
          (local.set $c2 (f32x4.add (v128.load offset=32 (local.get $o)) (f32x4.mul (local.get $a) (v128.load offset=32 (local.get $q)))))
          (local.set $c3 (f32x4.add (v128.load offset=48 (local.get $o)) (f32x4.mul (local.get $a) (v128.load offset=48 (local.get $q)))))
          (v128.store offset=0 (local.get $o) (local.get $c0))
          (v128.store offset=16 (local.get $o) (local.get $c1))
          (v128.store offset=32 (local.get $o) (local.get $c2))
          (v128.store offset=48 (local.get $o) (local.get $c3))
        ))
        (if (i32.and (local.get $nb) (i32.const 1)) (then
          (local.set $t (local.get $tb))
          (local.set $o (i32.add (local.get $ob) (local.get $t)))
          (local.set $q (i32.add (local.get $rb) (local.get $t)))
          (local.set $c0 (f32x4.add (v128.load offset=0 (local.get $o)) (f32x4.mul (local.get $a) (v128.load offset=0 (local.get $q)))))
          (local.set $c1 (f32x4.add (v128.load offset=16 (local.get $o)) (f32x4.mul (local.get $a) (v128.load offset=16 (local.get $q)))))
          (local.set $c2 (f32x4.add (v128.load offset=32 (local.get $o)) (f32x4.mul (local.get $a) (v128.load offset=32 (local.get $q)))))
          (local.set $c3 (f32x4.add (v128.load offset=48 (local.get $o)) (f32x4.mul (local.get $a) (v128.load offset=48 (local.get $q)))))
          (v128.store offset=0 (local.get $o) (local.get $c0))
          (v128.store offset=16 (local.get $o) (local.get $c1))
          (v128.store offset=32 (local.get $o) (local.get $c2))
          (v128.store offset=48 (local.get $o) (local.get $c3))
        ))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $r_next)))))
    ;; Then the bias.
    (if (local.get $ba) (then
      (local.set $o (local.get $oa))
      (local.set $e (i32.add (local.get $oa) (i32.shl (local.get $na) (i32.const 6))))
      (block $ba_done
        (loop $ba_next
          (br_if $ba_done (i32.ge_u (local.get $o) (local.get $e)))
          (v128.store (local.get $o) (f32x4.add (v128.load (local.get $o))
            (v128.load (i32.add (local.get $ba) (i32.sub (local.get $o) (local.get $oa))))))
          (local.set $o (i32.add (local.get $o) (i32.const 16)))
          (br $ba_next)))))
    (if (local.get $bb) (then
      (local.set $o (local.get $ob))
      (local.set $e (i32.add (local.get $ob) (i32.shl (local.get $nb) (i32.const 6))))
      (block $bb_done
        (loop $bb_next
          (br_if $bb_done (i32.ge_u (local.get $o) (local.get $e)))
          (v128.store (local.get $o) (f32x4.add (v128.load (local.get $o))
            (v128.load (i32.add (local.get $bb) (i32.sub (local.get $o) (local.get $ob))))))
          (local.set $o (i32.add (local.get $o) (i32.const 16)))
          (br $bb_next))))))


  ;; gemv16sparse: gemmsparse for one token (plain from x) on 16-bit panels (weight code
  ;;   `code`, rows of 32 bytes: panel p at w + p * ldw, row k at + 32k), widening each listed row
  ;;   in registers as `widen` does (so each product is gemm's on the widened weight): a 1 x 16
  ;;   tile a panel over the n values of k listed as i32 from idx; + bias; out plain, panel p at
  ;;   byte 64p.
  (func (export "gemv16sparse")
    (param $x i32) (param $w i32) (param $ldw i32) (param $p0 i32) (param $p1 i32)
    (param $bias i32) (param $out i32) (param $code i32) (param $idx i32) (param $n i32)
    (local $p i32) (local $i i32) (local $iend i32) (local $k i32) (local $wp i32) (local $wq i32)
    (local $bp i32) (local $o i32)
    (local $a v128) (local $v v128) (local $u v128) (local $hm v128) (local $fm v128) (local $fs v128)
    (local $w0 v128) (local $w1 v128) (local $w2 v128) (local $w3 v128)
    (local $c00 v128) (local $c01 v128) (local $c02 v128) (local $c03 v128)
    (local.set $hm (v128.const i32x4 0xffff0000 0xffff0000 0xffff0000 0xffff0000))
    (local.set $fm (v128.const i32x4 0x8fffe000 0x8fffe000 0x8fffe000 0x8fffe000))
    (local.set $fs (v128.const f32x4 0x1p102 0x1p102 0x1p102 0x1p102))
    (local.set $iend (i32.add (local.get $idx) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $p (local.get $p0))
    (block $g_done
      (loop $g_next
      (br_if $g_done (i32.ge_u (local.get $p) (local.get $p1)))
      (local.set $bp (select (i32.add (local.get $bias) (i32.shl (local.get $p) (i32.const 6)))
                             (i32.const 0) (local.get $bias)))
      (local.set $wp (i32.add (local.get $w) (i32.mul (local.get $p) (local.get $ldw))))
      (local.set $o (i32.add (local.get $out) (i32.shl (local.get $p) (i32.const 6))))
      (local.set $c00 (v128.const i32x4 0 0 0 0))
      (local.set $c01 (v128.const i32x4 0 0 0 0))
      (local.set $c02 (v128.const i32x4 0 0 0 0))
      (local.set $c03 (v128.const i32x4 0 0 0 0))
      (local.set $i (local.get $idx))
      (block $gk_done
        (loop $gk_next
        (br_if $gk_done (i32.ge_u (local.get $i) (local.get $iend)))
        (local.set $k (i32.load (local.get $i)))
        (local.set $wq (i32.add (local.get $wp) (i32.shl (local.get $k) (i32.const 5))))
        (local.set $v (v128.load offset=0 (local.get $wq)))
        (local.set $u (v128.load offset=16 (local.get $wq)))
        (if (i32.eq (local.get $code) (i32.const {{DT_bf16}}))
          (then
          (local.set $w0 (i32x4.shl (local.get $v) (i32.const 16)))
          (local.set $w1 (v128.and (local.get $v) (local.get $hm)))
          (local.set $w2 (i32x4.shl (local.get $u) (i32.const 16)))
          (local.set $w3 (v128.and (local.get $u) (local.get $hm))))
          (else (if (i32.eq (local.get $code) (i32.const {{DT_f16s}}))
            (then
            (local.set $w0 (f32x4.mul (v128.and (i32x4.shr_s (i32x4.shl (local.get $v) (i32.const 16)) (i32.const 3)) (local.get $fm)) (local.get $fs)))
            (local.set $w1 (f32x4.mul (v128.and (i32x4.shr_s (local.get $v) (i32.const 3)) (local.get $fm)) (local.get $fs)))
            (local.set $w2 (f32x4.mul (v128.and (i32x4.shr_s (i32x4.shl (local.get $u) (i32.const 16)) (i32.const 3)) (local.get $fm)) (local.get $fs)))
            (local.set $w3 (f32x4.mul (v128.and (i32x4.shr_s (local.get $u) (i32.const 3)) (local.get $fm)) (local.get $fs))))
            (else
            (local.set $w0 (call $half (i32x4.shl (local.get $v) (i32.const 16))))
            (local.set $w1 (call $half (local.get $v)))
            (local.set $w2 (call $half (i32x4.shl (local.get $u) (i32.const 16))))
            (local.set $w3 (call $half (local.get $u)))))))
        (local.set $a (v128.load32_splat (i32.add (local.get $x) (i32.shl (local.get $k) (i32.const 2)))))
        (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $a) (local.get $w0))))
        (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $a) (local.get $w1))))
        (local.set $c02 (f32x4.add (local.get $c02) (f32x4.mul (local.get $a) (local.get $w2))))
        (local.set $c03 (f32x4.add (local.get $c03) (f32x4.mul (local.get $a) (local.get $w3))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $gk_next)))
      (if (local.get $bp) (then
        (local.set $c00 (f32x4.add (local.get $c00) (v128.load offset=0 (local.get $bp))))
        (local.set $c01 (f32x4.add (local.get $c01) (v128.load offset=16 (local.get $bp))))
        (local.set $c02 (f32x4.add (local.get $c02) (v128.load offset=32 (local.get $bp))))
        (local.set $c03 (f32x4.add (local.get $c03) (v128.load offset=48 (local.get $bp))))
      ))
      (v128.store offset=0 (local.get $o) (local.get $c00))
      (v128.store offset=16 (local.get $o) (local.get $c01))
      (v128.store offset=32 (local.get $o) (local.get $c02))
      (v128.store offset=48 (local.get $o) (local.get $c03))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $g_next)))
  )


  ;; panelrows: panels p .. p + count - 1 of float32 weights laid out by row (src: row 0 of
  ;;   panel p, rows lds bytes apart, 64 bytes a panel) into panels from dst, ldf bytes apart
  ;;   (64 bytes a row): what gemm and gemmsparse read for a batch. Only the n rows listed
  ;;   (increasing) as i32 from idx, or with idx = 0 rows 0 .. n-1. Row by row, so each row's
  ;;   run of count panels is read in one piece.
  (func (export "panelrows") (param $src i32) (param $lds i32) (param $dst i32) (param $ldf i32)
    (param $count i32) (param $idx i32) (param $n i32)
    (local $i i32) (local $k i32) (local $s i32) (local $d i32) (local $send i32)
    (block $r_done
      (loop $r_next
      (br_if $r_done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $k (select (i32.load (i32.add (local.get $idx) (i32.shl (local.get $i) (i32.const 2))))
                            (local.get $i) (local.get $idx)))
      (local.set $s (i32.add (local.get $src) (i32.mul (local.get $k) (local.get $lds))))
      (local.set $send (i32.add (local.get $s) (i32.shl (local.get $count) (i32.const 6))))
      (local.set $d (i32.add (local.get $dst) (i32.shl (local.get $k) (i32.const 6))))
      (block $pf_done
        (loop $pf_next
        (br_if $pf_done (i32.ge_u (local.get $s) (local.get $send)))
        (v128.store offset=0 (local.get $d) (v128.load offset=0 (local.get $s)))
        (v128.store offset=16 (local.get $d) (v128.load offset=16 (local.get $s)))
        (v128.store offset=32 (local.get $d) (v128.load offset=32 (local.get $s)))
        (v128.store offset=48 (local.get $d) (v128.load offset=48 (local.get $s)))
        (local.set $s (i32.add (local.get $s) (i32.const 64)))
        (local.set $d (i32.add (local.get $d) (local.get $ldf)))
        (br $pf_next)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $r_next)))
  )

  ;; gemmrows: gemm's sums (no relu, plain output) for a batch on float32 weights laid out by row
  ;;   (a map whose rows a relu layer may skip: layout.ts, byRow), read where they are: panel p of
  ;;   row k at w + 64p + k * lds, for panels p0 .. p1-1 (one group's). x, lda, rows, K, bias,
  ;;   out and ldo as gemm's (x in pairs, out plain rows, panel p at byte 64p of a row).
  ;;   The rows go in blocks of 64: for each block, each panel, each pair of rows (then an odd
  ;;   last row, 1 x 16), a tile adds the block's terms to the partial sums it left in out (from
  ;;   +0 in the first block; the bias after the last). A float32 store and load are exact, so
  ;;   each element is gemm's sum, term by term in the same order: the same bits.
  ;;   Why blocks: gemm reads a panel's rows 64 bytes apart; here a panel's row is lds bytes from
  ;;   the next, so a tile down all K rows read a line a row from far apart, and the block's 64
  ;;   rows of one panel are what stays in L1 while every pair goes by (layout.ts pads a row
  ;;   whose lds is a multiple of 1 KiB by a line, so that those lines fall in more than four of
  ;;   L1's sets). While the first pair goes down a panel, it also loads a byte, one step each,
  ;;   from every line of this call's panels in the next block, row by row, in order: the
  ;;   hardware sees one stream and fetches it ahead (loads change no result). On D1's and S2's
  ;;   W2 (3072 x 768, 32 tokens from L3), these tiles took 1.03x to 1.06x gemm's time on
  ;;   panels; a copy into panels first (panelrows, then gemm), 1.15x to 1.25x; gemm's tile at
  ;;   stride lds with no blocks, 1.79x. At 128 tokens they took 1.07x to 1.10x, and the layer
  ;;   copies instead (panels.ts, ROWS_IN_PLACE).
  (func (export "gemmrows")
    (param $x i32) (param $lda i32) (param $rows i32) (param $K i32)
    (param $w i32) (param $lds i32) (param $p0 i32) (param $p1 i32)
    (param $bias i32) (param $out i32) (param $ldo i32)
    (local $k0 i32) (local $k1 i32) (local $p i32) (local $r i32) (local $wq i32) (local $bp i32)
    (local $o i32) (local $xa i32) (local $xend i32) (local $last i32)
    (local $tb i32) (local $tc i32) (local $tn i32) (local $tl i32) (local $t i32) (local $wrap i32)
    (local $a v128) (local $b v128) (local $w0 v128) (local $w1 v128) (local $w2 v128) (local $w3 v128)
    (local $c00 v128) (local $c01 v128) (local $c02 v128) (local $c03 v128) (local $c10 v128) (local $c11 v128) (local $c12 v128) (local $c13 v128)
    (local.set $tn (i32.sub (local.get $p1) (local.get $p0)))
    ;; Row K of panel p0: where the next block's lines end.
    (local.set $tl (i32.add (i32.add (local.get $w) (i32.shl (local.get $p0) (i32.const 6)))
                            (i32.mul (local.get $K) (local.get $lds))))
    (block $kb_done
      (loop $kb_next
      (br_if $kb_done (i32.ge_u (local.get $k0) (local.get $K)))
      (local.set $k1 (select (i32.add (local.get $k0) (i32.const 64)) (local.get $K)
                             (i32.lt_u (i32.add (local.get $k0) (i32.const 64)) (local.get $K))))
      (local.set $last (i32.eq (local.get $k1) (local.get $K)))
      ;; The next block's lines: from row k1, this call's panels (tn lines a row), tc'th of a row.
      (local.set $tb (i32.add (i32.add (local.get $w) (i32.shl (local.get $p0) (i32.const 6)))
                              (i32.mul (local.get $k1) (local.get $lds))))
      (local.set $tc (i32.const 0))
      (local.set $p (local.get $p0))
      (block $p_done
        (loop $p_next
        (br_if $p_done (i32.ge_u (local.get $p) (local.get $p1)))
        (local.set $bp (select (i32.add (local.get $bias) (i32.shl (local.get $p) (i32.const 6))) (i32.const 0)
                               (i32.and (local.get $last) (i32.ne (local.get $bias) (i32.const 0)))))
        (local.set $r (i32.const 0))
        (block $r_done
          (loop $r_next
          (br_if $r_done (i32.gt_u (i32.add (local.get $r) (i32.const 2)) (local.get $rows)))
          (local.set $xa (i32.add (i32.add (local.get $x) (i32.mul (local.get $r) (local.get $lda)))
                                  (i32.shl (local.get $k0) (i32.const 3))))
          (local.set $xend (i32.add (local.get $xa) (i32.shl (i32.sub (local.get $k1) (local.get $k0)) (i32.const 3))))
          (local.set $wq (i32.add (i32.add (local.get $w) (i32.shl (local.get $p) (i32.const 6)))
                                  (i32.mul (local.get $k0) (local.get $lds))))
          (local.set $o (i32.add (i32.add (local.get $out) (i32.mul (local.get $r) (local.get $ldo)))
                                 (i32.shl (local.get $p) (i32.const 6))))
          (if (local.get $k0)
            (then
              (local.set $c00 (v128.load offset=0 (local.get $o)))
              (local.set $c01 (v128.load offset=16 (local.get $o)))
              (local.set $c02 (v128.load offset=32 (local.get $o)))
              (local.set $c03 (v128.load offset=48 (local.get $o)))
              (local.set $c10 (v128.load offset=0 (i32.add (local.get $o) (local.get $ldo))))
              (local.set $c11 (v128.load offset=16 (i32.add (local.get $o) (local.get $ldo))))
              (local.set $c12 (v128.load offset=32 (i32.add (local.get $o) (local.get $ldo))))
              (local.set $c13 (v128.load offset=48 (i32.add (local.get $o) (local.get $ldo)))))
            (else
              (local.set $c00 (v128.const i32x4 0 0 0 0))
              (local.set $c01 (v128.const i32x4 0 0 0 0))
              (local.set $c02 (v128.const i32x4 0 0 0 0))
              (local.set $c03 (v128.const i32x4 0 0 0 0))
              (local.set $c10 (v128.const i32x4 0 0 0 0))
              (local.set $c11 (v128.const i32x4 0 0 0 0))
              (local.set $c12 (v128.const i32x4 0 0 0 0))
              (local.set $c13 (v128.const i32x4 0 0 0 0))))
          (if (i32.and (i32.eqz (local.get $r)) (i32.eqz (local.get $last)))
            (then
            ;; The first pair: a byte of the next block's line (tb + 64 tc) a step, then the next.
            (block $ka_done
              (loop $ka_next
              (br_if $ka_done (i32.ge_u (local.get $xa) (local.get $xend)))
              (local.set $w0 (v128.load offset=0 (local.get $wq)))
              (local.set $w1 (v128.load offset=16 (local.get $wq)))
              (local.set $w2 (v128.load offset=32 (local.get $wq)))
              (local.set $w3 (v128.load offset=48 (local.get $wq)))
              (local.set $a (v128.load32_splat (local.get $xa)))
              (local.set $b (v128.load32_splat offset=4 (local.get $xa)))
              (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $a) (local.get $w0))))
              (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $a) (local.get $w1))))
              (local.set $c02 (f32x4.add (local.get $c02) (f32x4.mul (local.get $a) (local.get $w2))))
              (local.set $c03 (f32x4.add (local.get $c03) (f32x4.mul (local.get $a) (local.get $w3))))
              (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $b) (local.get $w0))))
              (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $b) (local.get $w1))))
              (local.set $c12 (f32x4.add (local.get $c12) (f32x4.mul (local.get $b) (local.get $w2))))
              (local.set $c13 (f32x4.add (local.get $c13) (f32x4.mul (local.get $b) (local.get $w3))))
              ;; Past the last row (the next block shorter than this one): this step's own line.
              (local.set $t (i32.add (local.get $tb) (i32.shl (local.get $tc) (i32.const 6))))
              (drop (i32.load8_u (select (local.get $wq) (local.get $t) (i32.ge_u (local.get $tb) (local.get $tl)))))
              (local.set $wrap (i32.eq (i32.add (local.get $tc) (i32.const 1)) (local.get $tn)))
              (local.set $tb (select (i32.add (local.get $tb) (local.get $lds)) (local.get $tb) (local.get $wrap)))
              (local.set $tc (select (i32.const 0) (i32.add (local.get $tc) (i32.const 1)) (local.get $wrap)))
              (local.set $xa (i32.add (local.get $xa) (i32.const 8)))
              (local.set $wq (i32.add (local.get $wq) (local.get $lds)))
              (br $ka_next))))
            (else
            (block $k_done
              (loop $k_next
              (br_if $k_done (i32.ge_u (local.get $xa) (local.get $xend)))
              (local.set $w0 (v128.load offset=0 (local.get $wq)))
              (local.set $w1 (v128.load offset=16 (local.get $wq)))
              (local.set $w2 (v128.load offset=32 (local.get $wq)))
              (local.set $w3 (v128.load offset=48 (local.get $wq)))
              (local.set $a (v128.load32_splat (local.get $xa)))
              (local.set $b (v128.load32_splat offset=4 (local.get $xa)))
              (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $a) (local.get $w0))))
              (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $a) (local.get $w1))))
              (local.set $c02 (f32x4.add (local.get $c02) (f32x4.mul (local.get $a) (local.get $w2))))
              (local.set $c03 (f32x4.add (local.get $c03) (f32x4.mul (local.get $a) (local.get $w3))))
              (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $b) (local.get $w0))))
              (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $b) (local.get $w1))))
              (local.set $c12 (f32x4.add (local.get $c12) (f32x4.mul (local.get $b) (local.get $w2))))
              (local.set $c13 (f32x4.add (local.get $c13) (f32x4.mul (local.get $b) (local.get $w3))))
              (local.set $xa (i32.add (local.get $xa) (i32.const 8)))
              (local.set $wq (i32.add (local.get $wq) (local.get $lds)))
              (br $k_next)))))
          (if (local.get $bp) (then
            (local.set $c00 (f32x4.add (local.get $c00) (v128.load offset=0 (local.get $bp))))
            (local.set $c01 (f32x4.add (local.get $c01) (v128.load offset=16 (local.get $bp))))
            (local.set $c02 (f32x4.add (local.get $c02) (v128.load offset=32 (local.get $bp))))
            (local.set $c03 (f32x4.add (local.get $c03) (v128.load offset=48 (local.get $bp))))
            (local.set $c10 (f32x4.add (local.get $c10) (v128.load offset=0 (local.get $bp))))
            (local.set $c11 (f32x4.add (local.get $c11) (v128.load offset=16 (local.get $bp))))
            (local.set $c12 (f32x4.add (local.get $c12) (v128.load offset=32 (local.get $bp))))
            (local.set $c13 (f32x4.add (local.get $c13) (v128.load offset=48 (local.get $bp))))))
          (v128.store offset=0 (local.get $o) (local.get $c00))
          (v128.store offset=16 (local.get $o) (local.get $c01))
          (v128.store offset=32 (local.get $o) (local.get $c02))
          (v128.store offset=48 (local.get $o) (local.get $c03))
          (v128.store offset=0 (i32.add (local.get $o) (local.get $ldo)) (local.get $c10))
          (v128.store offset=16 (i32.add (local.get $o) (local.get $ldo)) (local.get $c11))
          (v128.store offset=32 (i32.add (local.get $o) (local.get $ldo)) (local.get $c12))
          (v128.store offset=48 (i32.add (local.get $o) (local.get $ldo)) (local.get $c13))
          (local.set $r (i32.add (local.get $r) (i32.const 2)))
          (br $r_next)))
        ;; An odd last row: 1 x 16, x plain.
        (if (i32.and (local.get $rows) (i32.const 1)) (then
          (local.set $r (i32.sub (local.get $rows) (i32.const 1)))
          (local.set $xa (i32.add (i32.add (local.get $x) (i32.mul (local.get $r) (local.get $lda)))
                                  (i32.shl (local.get $k0) (i32.const 2))))
          (local.set $xend (i32.add (local.get $xa) (i32.shl (i32.sub (local.get $k1) (local.get $k0)) (i32.const 2))))
          (local.set $wq (i32.add (i32.add (local.get $w) (i32.shl (local.get $p) (i32.const 6)))
                                  (i32.mul (local.get $k0) (local.get $lds))))
          (local.set $o (i32.add (i32.add (local.get $out) (i32.mul (local.get $r) (local.get $ldo)))
                                 (i32.shl (local.get $p) (i32.const 6))))
          (local.set $c00 (v128.const i32x4 0 0 0 0))
          (local.set $c01 (v128.const i32x4 0 0 0 0))
          (local.set $c02 (v128.const i32x4 0 0 0 0))
          (local.set $c03 (v128.const i32x4 0 0 0 0))
          (if (local.get $k0) (then
            (local.set $c00 (v128.load offset=0 (local.get $o)))
            (local.set $c01 (v128.load offset=16 (local.get $o)))
            (local.set $c02 (v128.load offset=32 (local.get $o)))
            (local.set $c03 (v128.load offset=48 (local.get $o)))))
          (block $k1_done
            (loop $k1_next
            (br_if $k1_done (i32.ge_u (local.get $xa) (local.get $xend)))
            (local.set $a (v128.load32_splat (local.get $xa)))
            (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $a) (v128.load offset=0 (local.get $wq)))))
            (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $a) (v128.load offset=16 (local.get $wq)))))
            (local.set $c02 (f32x4.add (local.get $c02) (f32x4.mul (local.get $a) (v128.load offset=32 (local.get $wq)))))
            (local.set $c03 (f32x4.add (local.get $c03) (f32x4.mul (local.get $a) (v128.load offset=48 (local.get $wq)))))
            (local.set $xa (i32.add (local.get $xa) (i32.const 4)))
            (local.set $wq (i32.add (local.get $wq) (local.get $lds)))
            (br $k1_next)))
          (if (local.get $bp) (then
            (local.set $c00 (f32x4.add (local.get $c00) (v128.load offset=0 (local.get $bp))))
            (local.set $c01 (f32x4.add (local.get $c01) (v128.load offset=16 (local.get $bp))))
            (local.set $c02 (f32x4.add (local.get $c02) (v128.load offset=32 (local.get $bp))))
            (local.set $c03 (f32x4.add (local.get $c03) (v128.load offset=48 (local.get $bp))))))
          (v128.store offset=0 (local.get $o) (local.get $c00))
          (v128.store offset=16 (local.get $o) (local.get $c01))
          (v128.store offset=32 (local.get $o) (local.get $c02))
          (v128.store offset=48 (local.get $o) (local.get $c03))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $p_next)))
      (local.set $k0 (local.get $k1))
      (br $kb_next)))
  )

  ;; gatherany: gather for a block of `rows` hidden rows in gemm's pair layout from h (pair i at
  ;;   h + 2i * lda, an odd last row plain at h + (rows-1) * lda): the k where any row is not ±0.
  (func (export "gatherany") (param $h i32) (param $lda i32) (param $rows i32) (param $K i32) (param $idx i32) (result i32)
    (local $k i32) (local $n i32) (local $a i32) (local $end i32) (local $last i32) (local $nz i64)
    (local.set $last (i32.add (local.get $h) (i32.mul (i32.sub (local.get $rows) (i32.const 1)) (local.get $lda))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $k) (local.get $K)))
        (local.set $nz (i64.const 0))
        (local.set $a (i32.add (local.get $h) (i32.shl (local.get $k) (i32.const 3))))
        (local.set $end (i32.add (local.get $a) (i32.mul (i32.and (local.get $rows) (i32.const -2)) (local.get $lda))))
        (block $p_done
          (loop $p_next
            (br_if $p_done (i32.ge_u (local.get $a) (local.get $end)))
            (local.set $nz (i64.or (local.get $nz) (i64.load (local.get $a))))
            (local.set $a (i32.add (local.get $a) (i32.shl (local.get $lda) (i32.const 1))))
            (br $p_next)))
        (if (i32.and (local.get $rows) (i32.const 1)) (then
          (local.set $nz (i64.or (local.get $nz)
            (i64.extend_i32_u (i32.load (i32.add (local.get $last) (i32.shl (local.get $k) (i32.const 2)))))))))
        (i32.store (i32.add (local.get $idx) (i32.shl (local.get $n) (i32.const 2))) (local.get $k))
        (local.set $n (i32.add (local.get $n)
          (i64.ne (i64.and (local.get $nz) (i64.const 0x7fffffff7fffffff)) (i64.const 0))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $next)))
    (local.get $n))


  ;; e^x on two float64 lanes, the operations of activation.ts's exp64 in its order.
  (func $exp (param $x v128) (result v128)
    (local $y v128) (local $fl v128) (local $k v128) (local $r v128) (local $p v128)
    (local $ki v128) (local $big v128) (local $small v128) (local $e1 v128) (local $e2 v128)
    (local $res v128)
    (local.set $y (f64x2.mul (local.get $x) (f64x2.splat (f64.const {{LOG2E}}))))
    ;; Math.round: ties go up. y - floor(y) is exact here.
    (local.set $fl (f64x2.floor (local.get $y)))
    (local.set $k (f64x2.add (local.get $fl)
      (v128.and (f64x2.ge (f64x2.sub (local.get $y) (local.get $fl)) (f64x2.splat (f64.const 0.5)))
                (f64x2.splat (f64.const 1)))))
    (local.set $r (f64x2.sub
      (f64x2.sub (local.get $x) (f64x2.mul (local.get $k) (f64x2.splat (f64.const {{LN2_HI}}))))
      (f64x2.mul (local.get $k) (f64x2.splat (f64.const {{LN2_LO}})))))
    (local.set $p (f64x2.add (f64x2.mul (f64x2.splat (f64.const {{E13}})) (local.get $r))
                             (f64x2.splat (f64.const {{E12}}))))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r)) (f64x2.splat (f64.const {{E11}}))))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r)) (f64x2.splat (f64.const {{E10}}))))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r)) (f64x2.splat (f64.const {{E9}}))))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r)) (f64x2.splat (f64.const {{E8}}))))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r)) (f64x2.splat (f64.const {{E7}}))))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r)) (f64x2.splat (f64.const {{E6}}))))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r)) (f64x2.splat (f64.const {{E5}}))))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r)) (f64x2.splat (f64.const {{E4}}))))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r)) (f64x2.splat (f64.const {{E3}}))))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r)) (f64x2.splat (f64.const {{E2}}))))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r)) (f64x2.splat (f64.const 1))))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $r)) (f64x2.splat (f64.const 1))))
    ;; p · 2^k, or (p · 2^1023) · 2^(k-1023) above 1023, (p · 2^-1022) · 2^(k+1022) below -1022;
    ;; the second factor is 1 (an exact multiplication) in between.
    (local.set $ki (i64x2.extend_low_i32x4_s (i32x4.trunc_sat_f64x2_s_zero (local.get $k))))
    (local.set $big (i64x2.gt_s (local.get $ki) (i64x2.splat (i64.const 1023))))
    (local.set $small (i64x2.lt_s (local.get $ki) (i64x2.splat (i64.const -1022))))
    (local.set $e1 (v128.bitselect (i64x2.splat (i64.const 1023))
      (v128.bitselect (i64x2.splat (i64.const -1022)) (local.get $ki) (local.get $small)) (local.get $big)))
    (local.set $e2 (v128.bitselect (i64x2.sub (local.get $ki) (i64x2.splat (i64.const 1023)))
      (v128.bitselect (i64x2.add (local.get $ki) (i64x2.splat (i64.const 1022))) (i64x2.splat (i64.const 0)) (local.get $small))
      (local.get $big)))
    (local.set $res (f64x2.mul
      (f64x2.mul (local.get $p) (i64x2.shl (i64x2.add (local.get $e1) (i64x2.splat (i64.const 1023))) (i32.const 52)))
      (i64x2.shl (i64x2.add (local.get $e2) (i64x2.splat (i64.const 1023))) (i32.const 52))))
    (local.set $res (v128.bitselect (f64x2.splat (f64.const inf)) (local.get $res)
      (f64x2.gt (local.get $x) (f64x2.splat (f64.const 710)))))
    ;; Below -746 (or NaN): 0, or the NaN itself.
    (v128.bitselect
      (v128.bitselect (local.get $x) (f64x2.splat (f64.const 0)) (f64x2.ne (local.get $x) (local.get $x)))
      (local.get $res)
      (v128.not (f64x2.gt (local.get $x) (f64x2.splat (f64.const -746))))))

  ;; x / (1 + e^-x)
  (func $silu (param $x v128) (result v128)
    (f64x2.div (local.get $x)
      (f64x2.add (f64x2.splat (f64.const 1)) (call $exp (f64x2.neg (local.get $x))))))

  ;; x / (1 + e^(-2z)), z = sqrt(2/pi) (x + k x^3)
  (func $geluTanh (param $x v128) (result v128)
    (local $z v128)
    (local.set $z (f64x2.mul (f64x2.splat (f64.const {{SQRT_2_OVER_PI}}))
      (f64x2.add (local.get $x)
        (f64x2.mul (f64x2.mul (f64x2.mul (f64x2.splat (f64.const {{GELU_TANH_K}})) (local.get $x))
                              (local.get $x)) (local.get $x)))))
    (f64x2.div (local.get $x)
      (f64x2.add (f64x2.splat (f64.const 1))
        (call $exp (f64x2.mul (f64x2.splat (f64.const -2)) (local.get $z))))))

  ;; erf(a) by the series, a < 2: 18 terms where a^2 <= 1, else 32; the coefficients at $tab.
  ;; A lane that takes 18 terms keeps p = +0 through the first 14 steps, as if it started later.
  (func $erfSeries (param $a v128) (param $tab i32) (result v128)
    (local $x2 v128) (local $short v128) (local $p v128) (local $n i32)
    (local.set $x2 (f64x2.mul (local.get $a) (local.get $a)))
    (local.set $short (f64x2.le (local.get $x2) (f64x2.splat (f64.const 1))))
    (local.set $p (v128.const i64x2 0 0))
    (if (i32.eqz (i64x2.all_true (local.get $short))) (then
      (local.set $n (i32.const 31))
      (loop $long
        (local.set $p (v128.bitselect (local.get $p)
          (f64x2.add (f64x2.mul (local.get $p) (local.get $x2))
                     (v128.load64_splat (i32.add (local.get $tab) (i32.shl (local.get $n) (i32.const 3)))))
          (local.get $short)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br_if $long (i32.gt_s (local.get $n) (i32.const 17))))))
    (local.set $n (i32.const 17))
    (loop $short_loop
      (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $x2))
                               (v128.load64_splat (i32.add (local.get $tab) (i32.shl (local.get $n) (i32.const 3))))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $short_loop (i32.ge_s (local.get $n) (i32.const 0))))
    (f64x2.mul (local.get $a) (local.get $p)))

  ;; erfc(a), a >= 2, by the continued fraction from each lane's own depth.
  (func $erfcFraction (param $a v128) (result v128)
    (local $d v128) (local $z2 v128) (local $f v128) (local $n i32) (local $nf v128) (local $res v128)
    (local.set $d
      (v128.bitselect (f64x2.splat (f64.const 30))
        (v128.bitselect (f64x2.splat (f64.const 21))
          (v128.bitselect (f64x2.splat (f64.const 16))
            (v128.bitselect (f64x2.splat (f64.const 11)) (f64x2.splat (f64.const 8))
              (f64x2.lt (local.get $a) (f64x2.splat (f64.const 6))))
            (f64x2.lt (local.get $a) (f64x2.splat (f64.const 4))))
          (f64x2.lt (local.get $a) (f64x2.splat (f64.const 3))))
        (f64x2.lt (local.get $a) (f64x2.splat (f64.const 2.5)))))
    (local.set $z2 (f64x2.mul (f64x2.mul (f64x2.splat (f64.const 2)) (local.get $a)) (local.get $a)))
    (local.set $f (f64x2.add (local.get $z2)
      (f64x2.add (f64x2.mul (f64x2.splat (f64.const 4)) (local.get $d)) (f64x2.splat (f64.const 1)))))
    (local.set $n (i32.const 30))
    (loop $level
      (local.set $nf (f64x2.splat (f64.convert_i32_s (local.get $n))))
      (local.set $f (v128.bitselect
        (f64x2.sub
          (f64x2.add (local.get $z2) (f64x2.splat (f64.convert_i32_s (i32.sub (i32.mul (local.get $n) (i32.const 4)) (i32.const 3)))))
          (f64x2.div
            (f64x2.splat (f64.convert_i32_s
              (i32.mul (i32.sub (i32.shl (local.get $n) (i32.const 1)) (i32.const 1)) (i32.shl (local.get $n) (i32.const 1)))))
            (local.get $f)))
        (local.get $f)
        (f64x2.le (local.get $nf) (local.get $d))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $level (i32.gt_s (local.get $n) (i32.const 0))))
    (local.set $res (f64x2.div
      (f64x2.mul
        (f64x2.mul (f64x2.mul (f64x2.splat (f64.const 2)) (local.get $a))
                   (call $exp (f64x2.mul (f64x2.neg (local.get $a)) (local.get $a))))
        (f64x2.splat (f64.const {{ONE_OVER_SQRT_PI}})))
      (local.get $f)))
    (v128.bitselect (f64x2.splat (f64.const 0)) (local.get $res)
      (f64x2.gt (local.get $a) (f64x2.splat (f64.const 27)))))

  ;; x Phi(x): x/2 (1 ± erf) below a = |x|/sqrt2 = 2, erfc above.
  (func $gelu (param $x v128) (param $tab i32) (result v128)
    (local $a v128) (local $low v128) (local $neg v128) (local $e v128) (local $c v128)
    (local $lo v128) (local $hi v128)
    (local.set $a (f64x2.mul (f64x2.abs (local.get $x)) (f64x2.splat (f64.const {{SQRT1_2}}))))
    (local.set $low (f64x2.lt (local.get $a) (f64x2.splat (f64.const 2))))
    (local.set $neg (f64x2.lt (local.get $x) (f64x2.splat (f64.const 0))))
    (if (v128.any_true (local.get $low)) (then
      (local.set $e (call $erfSeries (local.get $a) (local.get $tab)))
      (local.set $lo (v128.bitselect
        (f64x2.mul (f64x2.mul (f64x2.splat (f64.const 0.5)) (local.get $x))
                   (f64x2.sub (f64x2.splat (f64.const 1)) (local.get $e)))
        (f64x2.mul (f64x2.mul (f64x2.splat (f64.const 0.5)) (local.get $x))
                   (f64x2.add (f64x2.splat (f64.const 1)) (local.get $e)))
        (local.get $neg)))))
    (if (i32.eqz (i64x2.all_true (local.get $low))) (then
      (local.set $c (call $erfcFraction (local.get $a)))
      (local.set $hi (v128.bitselect
        (f64x2.mul (f64x2.mul (f64x2.splat (f64.const 0.5)) (local.get $x)) (local.get $c))
        (f64x2.mul (local.get $x)
                   (f64x2.sub (f64x2.splat (f64.const 1)) (f64x2.mul (f64x2.splat (f64.const 0.5)) (local.get $c))))
        (local.get $neg)))))
    (v128.bitselect (local.get $lo) (local.get $hi) (local.get $low)))

  ;; One f64x2 of float32 inputs through the activation `kind` (its code in activation.ts's
  ;; table; any other code traps), or, below 2^-125 in size, x/2 rounded up to float32 (see
  ;; activation.ts).
  (func $one (param $x v128) (param $kind i32) (param $tab i32) (result v128)
    (local $h v128) (local $f v128) (local $res v128) (local $tiny v128)
    (local.set $tiny (f64x2.lt (f64x2.abs (local.get $x)) (f64x2.splat (f64.const {{TINY}}))))
    (if (i32.eqz (i64x2.all_true (local.get $tiny))) (then
      (if (i32.eq (local.get $kind) (i32.const {{ACT_gelu}}))
        (then (local.set $res (call $gelu (local.get $x) (local.get $tab))))
        (else (if (i32.eq (local.get $kind) (i32.const {{ACT_geluTanh}}))
          (then (local.set $res (call $geluTanh (local.get $x))))
          (else (if (i32.eq (local.get $kind) (i32.const {{ACT_silu}}))
            (then (local.set $res (call $silu (local.get $x))))
            (else unreachable))))))))
    (if (v128.any_true (local.get $tiny)) (then
      (local.set $h (f64x2.mul (f64x2.splat (f64.const 0.5)) (local.get $x)))
      (local.set $f (f64x2.promote_low_f32x4 (f32x4.demote_f64x2_zero (local.get $h))))
      (local.set $res (v128.bitselect
        (v128.bitselect (local.get $f)
          (f64x2.add (local.get $f) (f64x2.splat (f64.const {{SUBNORMAL_ULP}})))
          (f64x2.ge (local.get $f) (local.get $h)))
        (local.get $res)
        (local.get $tiny)))))
    (local.get $res))

  ;; act: the float32 values at p .. p + 4n - 1 (n a multiple of 4) through activation `kind`,
  ;; in place, rounded once to float32. tab: erf's 32 series coefficients, float64.
  (func (export "act") (param $p i32) (param $n i32) (param $kind i32) (param $tab i32)
    (local $end i32) (local $v v128) (local $lo v128) (local $hi v128)
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $v (v128.load (local.get $p)))
        (local.set $lo (call $one (f64x2.promote_low_f32x4 (local.get $v)) (local.get $kind) (local.get $tab)))
        (local.set $hi (call $one
          (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))
          (local.get $kind) (local.get $tab)))
        (v128.store (local.get $p) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
          (f32x4.demote_f64x2_zero (local.get $lo)) (f32x4.demote_f64x2_zero (local.get $hi))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $next))))

  ;; toHalf: the float32 value of the f16 nearest v (ties to even), v >= 0 and not NaN: below 2^-14
  ;;   f16's step is 2^-24, which float32's addition to 0.5 rounds to; above, the mantissa is
  ;;   rounded to 10 bits in the integer bits (a carry moves the exponent); 65520 and up is infinite.
  (func $toHalf (param $v f32) (result f32)
    (local $bits i32)
    (if (f32.lt (local.get $v) (f32.const 0x1p-14))
      (then (return (f32.sub (f32.add (local.get $v) (f32.const 0.5)) (f32.const 0.5)))))
    (if (f32.ge (local.get $v) (f32.const 65520)) (then (return (f32.const inf))))
    (local.set $bits (i32.reinterpret_f32 (local.get $v)))
    (f32.reinterpret_i32 (i32.and
      (i32.add (local.get $bits) (i32.add (i32.const 0xfff) (i32.and (i32.shr_u (local.get $bits) (i32.const 13)) (i32.const 1))))
      (i32.const 0xffffe000))))

  ;; qrows: rows of K floats (K a multiple of 32) in gemm's pair layout (rows 2i and 2i+1
  ;;   interleaved from x + 2i * lda, an odd last row plain) quantized to Q8_0 as
  ;;   src/kernels/quant.ts's quantizeActivations does (quantize_row_q8_0_ref: d = amax / 127,
  ;;   q = roundf(x * (1/d)), halves away from zero; a block holding a NaN or an infinity gets the
  ;;   scale NaN and quants 0), into qgemm's rows at xq (see qgemm). Every float32 operation is the
  ;;   one JavaScript rounds to float32 there (a quotient or product of two float32 values, rounded
  ;;   once), and roundf is trunc plus one where the (exact) fraction is at least 1/2. amax is the
  ;;   largest of the magnitudes' bits as signed integers: the same order as the values' for
  ;;   magnitudes, with NaN above infinity, so a NaN or an infinity still sends the block to its
  ;;   branch below (f32x4.max, which orders -0, +0 and NaN as IEEE wants, is several
  ;;   instructions on x64; i32x4.max_s is one). The signed
  ;;   integer comes from the bits of (that value with x's sign) + 1.5 * 2^23, where float32's
  ;;   step is 1 (an exact sum, |q| <= 127), less the bits of 1.5 * 2^23: two operations, where
  ;;   i32x4.trunc_sat_f32x4_s and a select on the sign took about a dozen on x64 (qrows was 5%
  ;;   to 8% of a 128- or 512-token batch's time).
  (func (export "qrows") (param $x i32) (param $lda i32) (param $rows i32) (param $K i32) (param $xq i32)
    (local $r i32) (local $src i32) (local $q i32) (local $d i32) (local $dend i32) (local $ldq i32)
    (local $amax f32) (local $dd f32) (local $id f32)
    (local $m v128) (local $idv v128) (local $p v128) (local $a v128) (local $t v128) (local $qi v128)
    (local $lo v128) (local $sum v128) (local $half v128) (local $one v128) (local $sgn v128) (local $magic v128) (local $absm v128)
    (local.set $half (f32x4.splat (f32.const 0.5)))
    (local.set $one (f32x4.splat (f32.const 1)))
    (local.set $sgn (v128.const i32x4 0x80000000 0x80000000 0x80000000 0x80000000))
    (local.set $magic (v128.const f32x4 0x1.8p23 0x1.8p23 0x1.8p23 0x1.8p23))
    (local.set $absm (v128.const i32x4 0x7fffffff 0x7fffffff 0x7fffffff 0x7fffffff))
    (local.set $ldq (i32.add (i32.shl (local.get $K) (i32.const 1)) (i32.shr_u (local.get $K) (i32.const 2))))
    (block $r_done
      (loop $r_next
      (br_if $r_done (i32.ge_u (local.get $r) (local.get $rows)))
      (local.set $q (i32.add (local.get $xq) (i32.mul (local.get $r) (local.get $ldq))))
      (local.set $d (i32.add (local.get $q) (i32.shl (local.get $K) (i32.const 1))))
      (local.set $dend (i32.add (local.get $d) (i32.shr_u (local.get $K) (i32.const 2))))
      (if (i32.lt_u (i32.or (local.get $r) (i32.const 1)) (local.get $rows))
        (then
          (local.set $src (i32.add (i32.add (local.get $x) (i32.mul (i32.and (local.get $r) (i32.const -2)) (local.get $lda)))
                                   (i32.shl (i32.and (local.get $r) (i32.const 1)) (i32.const 2))))
          (loop $pb
            (local.set $m (v128.and (local.get $absm) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load offset=0 (local.get $src)) (v128.load offset=16 (local.get $src)))))
            (local.set $m (i32x4.max_s (local.get $m) (v128.and (local.get $absm) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load offset=32 (local.get $src)) (v128.load offset=48 (local.get $src))))))
            (local.set $m (i32x4.max_s (local.get $m) (v128.and (local.get $absm) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load offset=64 (local.get $src)) (v128.load offset=80 (local.get $src))))))
            (local.set $m (i32x4.max_s (local.get $m) (v128.and (local.get $absm) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load offset=96 (local.get $src)) (v128.load offset=112 (local.get $src))))))
            (local.set $m (i32x4.max_s (local.get $m) (v128.and (local.get $absm) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load offset=128 (local.get $src)) (v128.load offset=144 (local.get $src))))))
            (local.set $m (i32x4.max_s (local.get $m) (v128.and (local.get $absm) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load offset=160 (local.get $src)) (v128.load offset=176 (local.get $src))))))
            (local.set $m (i32x4.max_s (local.get $m) (v128.and (local.get $absm) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load offset=192 (local.get $src)) (v128.load offset=208 (local.get $src))))))
            (local.set $m (i32x4.max_s (local.get $m) (v128.and (local.get $absm) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load offset=224 (local.get $src)) (v128.load offset=240 (local.get $src))))))
            (local.set $m (i32x4.max_s (local.get $m) (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $m) (local.get $m))))
            (local.set $m (i32x4.max_s (local.get $m) (i8x16.shuffle 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 (local.get $m) (local.get $m))))
            (local.set $amax (f32.reinterpret_i32 (i32x4.extract_lane 0 (local.get $m))))
            (if (f32.lt (local.get $amax) (f32.const inf))
              (then
                (local.set $dd (f32.div (local.get $amax) (f32.const 127)))
                (local.set $id (f32.div (f32.const 1) (local.get $dd)))
                (if (i32.eqz (i32.and (f32.ne (local.get $dd) (f32.const 0)) (f32.lt (local.get $id) (f32.const inf))))
                  (then (local.set $id (f32.const 0))))
                (f32.store (local.get $d) (f32.mul (call $toHalf (local.get $dd)) (f32.const 0x1p112)))
                (local.set $idv (f32x4.splat (local.get $id)))
                (local.set $sum (v128.const i32x4 0 0 0 0))
                (local.set $p (f32x4.mul (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load offset=0 (local.get $src)) (v128.load offset=16 (local.get $src))) (local.get $idv)))
                (local.set $a (v128.and (local.get $absm) (local.get $p)))
                (local.set $t (f32x4.trunc (local.get $a)))
                (local.set $t (f32x4.add (local.get $t) (v128.and (f32x4.ge (f32x4.sub (local.get $a) (local.get $t)) (local.get $half)) (local.get $one))))
                (local.set $qi (i32x4.sub (f32x4.add (v128.or (local.get $t) (v128.and (local.get $p) (local.get $sgn))) (local.get $magic)) (local.get $magic)))
                (local.set $sum (i32x4.add (local.get $sum) (local.get $qi)))
                (local.set $lo (local.get $qi))
                (local.set $p (f32x4.mul (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load offset=32 (local.get $src)) (v128.load offset=48 (local.get $src))) (local.get $idv)))
                (local.set $a (v128.and (local.get $absm) (local.get $p)))
                (local.set $t (f32x4.trunc (local.get $a)))
                (local.set $t (f32x4.add (local.get $t) (v128.and (f32x4.ge (f32x4.sub (local.get $a) (local.get $t)) (local.get $half)) (local.get $one))))
                (local.set $qi (i32x4.sub (f32x4.add (v128.or (local.get $t) (v128.and (local.get $p) (local.get $sgn))) (local.get $magic)) (local.get $magic)))
                (local.set $sum (i32x4.add (local.get $sum) (local.get $qi)))
                (v128.store offset=0 (local.get $q) (i16x8.narrow_i32x4_s (local.get $lo) (local.get $qi)))
                (local.set $p (f32x4.mul (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load offset=64 (local.get $src)) (v128.load offset=80 (local.get $src))) (local.get $idv)))
                (local.set $a (v128.and (local.get $absm) (local.get $p)))
                (local.set $t (f32x4.trunc (local.get $a)))
                (local.set $t (f32x4.add (local.get $t) (v128.and (f32x4.ge (f32x4.sub (local.get $a) (local.get $t)) (local.get $half)) (local.get $one))))
                (local.set $qi (i32x4.sub (f32x4.add (v128.or (local.get $t) (v128.and (local.get $p) (local.get $sgn))) (local.get $magic)) (local.get $magic)))
                (local.set $sum (i32x4.add (local.get $sum) (local.get $qi)))
                (local.set $lo (local.get $qi))
                (local.set $p (f32x4.mul (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load offset=96 (local.get $src)) (v128.load offset=112 (local.get $src))) (local.get $idv)))
                (local.set $a (v128.and (local.get $absm) (local.get $p)))
                (local.set $t (f32x4.trunc (local.get $a)))
                (local.set $t (f32x4.add (local.get $t) (v128.and (f32x4.ge (f32x4.sub (local.get $a) (local.get $t)) (local.get $half)) (local.get $one))))
                (local.set $qi (i32x4.sub (f32x4.add (v128.or (local.get $t) (v128.and (local.get $p) (local.get $sgn))) (local.get $magic)) (local.get $magic)))
                (local.set $sum (i32x4.add (local.get $sum) (local.get $qi)))
                (v128.store offset=16 (local.get $q) (i16x8.narrow_i32x4_s (local.get $lo) (local.get $qi)))
                (local.set $p (f32x4.mul (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load offset=128 (local.get $src)) (v128.load offset=144 (local.get $src))) (local.get $idv)))
                (local.set $a (v128.and (local.get $absm) (local.get $p)))
                (local.set $t (f32x4.trunc (local.get $a)))
                (local.set $t (f32x4.add (local.get $t) (v128.and (f32x4.ge (f32x4.sub (local.get $a) (local.get $t)) (local.get $half)) (local.get $one))))
                (local.set $qi (i32x4.sub (f32x4.add (v128.or (local.get $t) (v128.and (local.get $p) (local.get $sgn))) (local.get $magic)) (local.get $magic)))
                (local.set $sum (i32x4.add (local.get $sum) (local.get $qi)))
                (local.set $lo (local.get $qi))
                (local.set $p (f32x4.mul (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load offset=160 (local.get $src)) (v128.load offset=176 (local.get $src))) (local.get $idv)))
                (local.set $a (v128.and (local.get $absm) (local.get $p)))
                (local.set $t (f32x4.trunc (local.get $a)))
                (local.set $t (f32x4.add (local.get $t) (v128.and (f32x4.ge (f32x4.sub (local.get $a) (local.get $t)) (local.get $half)) (local.get $one))))
                (local.set $qi (i32x4.sub (f32x4.add (v128.or (local.get $t) (v128.and (local.get $p) (local.get $sgn))) (local.get $magic)) (local.get $magic)))
                (local.set $sum (i32x4.add (local.get $sum) (local.get $qi)))
                (v128.store offset=32 (local.get $q) (i16x8.narrow_i32x4_s (local.get $lo) (local.get $qi)))
                (local.set $p (f32x4.mul (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load offset=192 (local.get $src)) (v128.load offset=208 (local.get $src))) (local.get $idv)))
                (local.set $a (v128.and (local.get $absm) (local.get $p)))
                (local.set $t (f32x4.trunc (local.get $a)))
                (local.set $t (f32x4.add (local.get $t) (v128.and (f32x4.ge (f32x4.sub (local.get $a) (local.get $t)) (local.get $half)) (local.get $one))))
                (local.set $qi (i32x4.sub (f32x4.add (v128.or (local.get $t) (v128.and (local.get $p) (local.get $sgn))) (local.get $magic)) (local.get $magic)))
                (local.set $sum (i32x4.add (local.get $sum) (local.get $qi)))
                (local.set $lo (local.get $qi))
                (local.set $p (f32x4.mul (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load offset=224 (local.get $src)) (v128.load offset=240 (local.get $src))) (local.get $idv)))
                (local.set $a (v128.and (local.get $absm) (local.get $p)))
                (local.set $t (f32x4.trunc (local.get $a)))
                (local.set $t (f32x4.add (local.get $t) (v128.and (f32x4.ge (f32x4.sub (local.get $a) (local.get $t)) (local.get $half)) (local.get $one))))
                (local.set $qi (i32x4.sub (f32x4.add (v128.or (local.get $t) (v128.and (local.get $p) (local.get $sgn))) (local.get $magic)) (local.get $magic)))
                (local.set $sum (i32x4.add (local.get $sum) (local.get $qi)))
                (v128.store offset=48 (local.get $q) (i16x8.narrow_i32x4_s (local.get $lo) (local.get $qi)))
                (i32.store offset=4 (local.get $d) (i32.shl (i32.add (i32.add (i32x4.extract_lane 0 (local.get $sum)) (i32x4.extract_lane 1 (local.get $sum)))
                  (i32.add (i32x4.extract_lane 2 (local.get $sum)) (i32x4.extract_lane 3 (local.get $sum)))) (i32.const 3))))
              (else
                ;; A NaN or an infinity in the block: scale NaN, quants 0, so every output it reaches is NaN.
                (v128.store offset=0 (local.get $q) (v128.const i32x4 0 0 0 0))
                (v128.store offset=16 (local.get $q) (v128.const i32x4 0 0 0 0))
                (v128.store offset=32 (local.get $q) (v128.const i32x4 0 0 0 0))
                (v128.store offset=48 (local.get $q) (v128.const i32x4 0 0 0 0))
                (f32.store (local.get $d) (f32.const nan))
                (i32.store offset=4 (local.get $d) (i32.const 0))))
            (local.set $src (i32.add (local.get $src) (i32.const 256)))
            (local.set $q (i32.add (local.get $q) (i32.const 64)))
            (local.set $d (i32.add (local.get $d) (i32.const 8)))
            (br_if $pb (i32.lt_u (local.get $d) (local.get $dend)))))
        (else
          (local.set $src (i32.add (local.get $x) (i32.mul (local.get $r) (local.get $lda))))
          (loop $sb
            (local.set $m (v128.and (local.get $absm) (v128.load offset=0 (local.get $src))))
            (local.set $m (i32x4.max_s (local.get $m) (v128.and (local.get $absm) (v128.load offset=16 (local.get $src)))))
            (local.set $m (i32x4.max_s (local.get $m) (v128.and (local.get $absm) (v128.load offset=32 (local.get $src)))))
            (local.set $m (i32x4.max_s (local.get $m) (v128.and (local.get $absm) (v128.load offset=48 (local.get $src)))))
            (local.set $m (i32x4.max_s (local.get $m) (v128.and (local.get $absm) (v128.load offset=64 (local.get $src)))))
            (local.set $m (i32x4.max_s (local.get $m) (v128.and (local.get $absm) (v128.load offset=80 (local.get $src)))))
            (local.set $m (i32x4.max_s (local.get $m) (v128.and (local.get $absm) (v128.load offset=96 (local.get $src)))))
            (local.set $m (i32x4.max_s (local.get $m) (v128.and (local.get $absm) (v128.load offset=112 (local.get $src)))))
            (local.set $m (i32x4.max_s (local.get $m) (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $m) (local.get $m))))
            (local.set $m (i32x4.max_s (local.get $m) (i8x16.shuffle 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 (local.get $m) (local.get $m))))
            (local.set $amax (f32.reinterpret_i32 (i32x4.extract_lane 0 (local.get $m))))
            (if (f32.lt (local.get $amax) (f32.const inf))
              (then
                (local.set $dd (f32.div (local.get $amax) (f32.const 127)))
                (local.set $id (f32.div (f32.const 1) (local.get $dd)))
                (if (i32.eqz (i32.and (f32.ne (local.get $dd) (f32.const 0)) (f32.lt (local.get $id) (f32.const inf))))
                  (then (local.set $id (f32.const 0))))
                (f32.store (local.get $d) (f32.mul (call $toHalf (local.get $dd)) (f32.const 0x1p112)))
                (local.set $idv (f32x4.splat (local.get $id)))
                (local.set $sum (v128.const i32x4 0 0 0 0))
                (local.set $p (f32x4.mul (v128.load offset=0 (local.get $src)) (local.get $idv)))
                (local.set $a (v128.and (local.get $absm) (local.get $p)))
                (local.set $t (f32x4.trunc (local.get $a)))
                (local.set $t (f32x4.add (local.get $t) (v128.and (f32x4.ge (f32x4.sub (local.get $a) (local.get $t)) (local.get $half)) (local.get $one))))
                (local.set $qi (i32x4.sub (f32x4.add (v128.or (local.get $t) (v128.and (local.get $p) (local.get $sgn))) (local.get $magic)) (local.get $magic)))
                (local.set $sum (i32x4.add (local.get $sum) (local.get $qi)))
                (local.set $lo (local.get $qi))
                (local.set $p (f32x4.mul (v128.load offset=16 (local.get $src)) (local.get $idv)))
                (local.set $a (v128.and (local.get $absm) (local.get $p)))
                (local.set $t (f32x4.trunc (local.get $a)))
                (local.set $t (f32x4.add (local.get $t) (v128.and (f32x4.ge (f32x4.sub (local.get $a) (local.get $t)) (local.get $half)) (local.get $one))))
                (local.set $qi (i32x4.sub (f32x4.add (v128.or (local.get $t) (v128.and (local.get $p) (local.get $sgn))) (local.get $magic)) (local.get $magic)))
                (local.set $sum (i32x4.add (local.get $sum) (local.get $qi)))
                (v128.store offset=0 (local.get $q) (i16x8.narrow_i32x4_s (local.get $lo) (local.get $qi)))
                (local.set $p (f32x4.mul (v128.load offset=32 (local.get $src)) (local.get $idv)))
                (local.set $a (v128.and (local.get $absm) (local.get $p)))
                (local.set $t (f32x4.trunc (local.get $a)))
                (local.set $t (f32x4.add (local.get $t) (v128.and (f32x4.ge (f32x4.sub (local.get $a) (local.get $t)) (local.get $half)) (local.get $one))))
                (local.set $qi (i32x4.sub (f32x4.add (v128.or (local.get $t) (v128.and (local.get $p) (local.get $sgn))) (local.get $magic)) (local.get $magic)))
                (local.set $sum (i32x4.add (local.get $sum) (local.get $qi)))
                (local.set $lo (local.get $qi))
                (local.set $p (f32x4.mul (v128.load offset=48 (local.get $src)) (local.get $idv)))
                (local.set $a (v128.and (local.get $absm) (local.get $p)))
                (local.set $t (f32x4.trunc (local.get $a)))
                (local.set $t (f32x4.add (local.get $t) (v128.and (f32x4.ge (f32x4.sub (local.get $a) (local.get $t)) (local.get $half)) (local.get $one))))
                (local.set $qi (i32x4.sub (f32x4.add (v128.or (local.get $t) (v128.and (local.get $p) (local.get $sgn))) (local.get $magic)) (local.get $magic)))
                (local.set $sum (i32x4.add (local.get $sum) (local.get $qi)))
                (v128.store offset=16 (local.get $q) (i16x8.narrow_i32x4_s (local.get $lo) (local.get $qi)))
                (local.set $p (f32x4.mul (v128.load offset=64 (local.get $src)) (local.get $idv)))
                (local.set $a (v128.and (local.get $absm) (local.get $p)))
                (local.set $t (f32x4.trunc (local.get $a)))
                (local.set $t (f32x4.add (local.get $t) (v128.and (f32x4.ge (f32x4.sub (local.get $a) (local.get $t)) (local.get $half)) (local.get $one))))
                (local.set $qi (i32x4.sub (f32x4.add (v128.or (local.get $t) (v128.and (local.get $p) (local.get $sgn))) (local.get $magic)) (local.get $magic)))
                (local.set $sum (i32x4.add (local.get $sum) (local.get $qi)))
                (local.set $lo (local.get $qi))
                (local.set $p (f32x4.mul (v128.load offset=80 (local.get $src)) (local.get $idv)))
                (local.set $a (v128.and (local.get $absm) (local.get $p)))
                (local.set $t (f32x4.trunc (local.get $a)))
                (local.set $t (f32x4.add (local.get $t) (v128.and (f32x4.ge (f32x4.sub (local.get $a) (local.get $t)) (local.get $half)) (local.get $one))))
                (local.set $qi (i32x4.sub (f32x4.add (v128.or (local.get $t) (v128.and (local.get $p) (local.get $sgn))) (local.get $magic)) (local.get $magic)))
                (local.set $sum (i32x4.add (local.get $sum) (local.get $qi)))
                (v128.store offset=32 (local.get $q) (i16x8.narrow_i32x4_s (local.get $lo) (local.get $qi)))
                (local.set $p (f32x4.mul (v128.load offset=96 (local.get $src)) (local.get $idv)))
                (local.set $a (v128.and (local.get $absm) (local.get $p)))
                (local.set $t (f32x4.trunc (local.get $a)))
                (local.set $t (f32x4.add (local.get $t) (v128.and (f32x4.ge (f32x4.sub (local.get $a) (local.get $t)) (local.get $half)) (local.get $one))))
                (local.set $qi (i32x4.sub (f32x4.add (v128.or (local.get $t) (v128.and (local.get $p) (local.get $sgn))) (local.get $magic)) (local.get $magic)))
                (local.set $sum (i32x4.add (local.get $sum) (local.get $qi)))
                (local.set $lo (local.get $qi))
                (local.set $p (f32x4.mul (v128.load offset=112 (local.get $src)) (local.get $idv)))
                (local.set $a (v128.and (local.get $absm) (local.get $p)))
                (local.set $t (f32x4.trunc (local.get $a)))
                (local.set $t (f32x4.add (local.get $t) (v128.and (f32x4.ge (f32x4.sub (local.get $a) (local.get $t)) (local.get $half)) (local.get $one))))
                (local.set $qi (i32x4.sub (f32x4.add (v128.or (local.get $t) (v128.and (local.get $p) (local.get $sgn))) (local.get $magic)) (local.get $magic)))
                (local.set $sum (i32x4.add (local.get $sum) (local.get $qi)))
                (v128.store offset=48 (local.get $q) (i16x8.narrow_i32x4_s (local.get $lo) (local.get $qi)))
                (i32.store offset=4 (local.get $d) (i32.shl (i32.add (i32.add (i32x4.extract_lane 0 (local.get $sum)) (i32x4.extract_lane 1 (local.get $sum)))
                  (i32.add (i32x4.extract_lane 2 (local.get $sum)) (i32x4.extract_lane 3 (local.get $sum)))) (i32.const 3))))
              (else
                ;; A NaN or an infinity in the block: scale NaN, quants 0, so every output it reaches is NaN.
                (v128.store offset=0 (local.get $q) (v128.const i32x4 0 0 0 0))
                (v128.store offset=16 (local.get $q) (v128.const i32x4 0 0 0 0))
                (v128.store offset=32 (local.get $q) (v128.const i32x4 0 0 0 0))
                (v128.store offset=48 (local.get $q) (v128.const i32x4 0 0 0 0))
                (f32.store (local.get $d) (f32.const nan))
                (i32.store offset=4 (local.get $d) (i32.const 0))))
            (local.set $src (i32.add (local.get $src) (i32.const 128)))
            (local.set $q (i32.add (local.get $q) (i32.const 64)))
            (local.set $d (i32.add (local.get $d) (i32.const 8)))
            (br_if $sb (i32.lt_u (local.get $d) (local.get $dend))))))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $r_next))))

  ;; qgemm: out[r, j] = act(sum + bias[j]) for a quantized map (weight code {{DT_q8_0}}: Q8_0, else
  ;;   Q4_0; code bit 16: some block scale of the map is an infinity or a NaN), columns of panels
  ;;   p0 .. p1-1, as llama.cpp's CPU path computes it (src/kernels/quant.ts): sum = +0, then for
  ;;   each block b of 32 inputs in increasing order sum = sum + sumi_b * (d_w * d_x) in float32
  ;;   (each operation rounded, never fused), sumi_b the exact integer dot product of the block's
  ;;   weight quants and the token's Q8_0 activation quants.
  ;;   xq: `rows` rows of ldq bytes, each K quants as i16, then for each block d_x * 2^112 (float32,
  ;;   exact: d_x is an f16 value) and 8 times the sum of its quants (i32), made by qrows.
  ;;   w: panels of 16 columns at w + p * ldw, a panel's blocks one after another: 16 f16 scales
  ;;   (column c at 2c), then for each input pair (2t, 2t+1), t = 0..15, in order:
  ;;   Q8_0: 32 bytes, two v128 g = 0, 1, whose 16-bit lane l = 2m + e holds input 2t+e's quant
  ;;     of column 8g + m in its high byte and of column 8g + 4 + m, plus 128 (0..255), in its
  ;;     low byte (544 bytes a block). i16x8.shr_s by 8 gives the first four columns' pairs, and
  ;;     the lane as it is, as a signed 16-bit value, is 256 * (the high quant) + (the low quant)
  ;;     + 128: one dot product of each with the activation pair sums H (columns 8g..8g+3) and D,
  ;;     whence the other four columns' sum D - 256 H - 128 * (the block's activation sum), all
  ;;     exact (|D| <= 16 * 2 * 2^15 * 127 < 2^31). Per 16 weights that is one load, one shift,
  ;;     two dot products and two adds, where widening each 8 with v128.load8x8_s took a
  ;;     sign-extending load more (a shuffle-port operation on x64): one token through 48
  ;;     768 x 3072 layers from memory took 11% less time, and about 20% less with the weights
  ;;     in L2 (one thread, a shared 2-core Intel Xeon);
  ;;   Q4_0: 16 bytes, 16-bit lane l = 2m + e holding input 2t+e's nibbles of columns m, 4+m, 8+m
  ;;     and 12+m from its low bits up, so masks (0x000f, 0x00f0, 0x0f00) and one shift give four
  ;;     columns' pairs at once: the middle two 16 and 256 times their values, divided out (exactly)
  ;;     after the block; each nibble n stands for n - 8, so 8 * (the block's activation sum) is
  ;;     taken off each column's sumi then (288 bytes a block).
  ;;   One activation pair splat across an i16x8 meets four columns' pairs in one i32x4.dot_i16x8_s,
  ;;   and the lanes of the sums are columns. Two rows go together when there are two (each widened
  ;;   weight vector serves both), an odd last row alone: the integer sums are exact and every
  ;;   element gets the same float32 operations either way, so a token's bits do not depend on its
  ;;   batch. The f16 scales become float32 with a shift and a mask, times 2^-112 (which d_x * 2^112
  ;;   makes up: the real product d_w * d_x, rounded once, is the same). bias, relu, pair, out, ldo:
  ;;   as gemm's (an odd last row plain). Panels outer, rows inner: a panel stays in cache while the
  ;;   rows stream by. One token alone (rows = 1) goes eight (Q8_0) or four panels at a time
  ;;   (see there).
  ;;   Q8_0 batches: four rows at a time over half a panel (8 columns: one v128 of each input
  ;;   pair, its shifted twin, 8 integer sums, 4 activation pairs broadcast: 14 of the 15 v128
  ;;   registers V8 leaves free on x64), so each loaded and shifted weight vector serves four
  ;;   rows, where the two-row tile's served two (17 vector operations per 64 multiply-adds
  ;;   against 18, and the per-block scale conversion and loop control shared by twice the
  ;;   rows); the rows go in groups of about 512 KiB of quantized activations, each group over
  ;;   every panel, so a group stays in a core's L2 while the panels go by (the activations, two
  ;;   bytes an input, are read again for every panel; the whole batch of 512 rows of 2048
  ;;   inputs is 2.3 MB). The rows left over (rows mod 4) take the two-row tile. On the shared
  ;;   2-core Intel Xeon, one thread, CPU time of qrows and qgemm: 512 tokens through 512 x 2048
  ;;   and 2048 x 512, and 128 tokens through 768 x 3072 and back, each about 6% less than with
  ;;   the two-row tile. Every element gets the same operations as in the other tiles, so
  ;;   which tile computes a row changes no bit.
  (func (export "qgemm")
    (param $xq i32) (param $ldq i32) (param $rows i32) (param $K i32)
    (param $w i32) (param $ldw i32) (param $p0 i32) (param $p1 i32)
    (param $bias i32) (param $relu i32) (param $pair i32) (param $out i32) (param $ldo i32)
    (param $code i32)
    (local $p i32) (local $r i32) (local $two i32) (local $wb i32) (local $xb i32) (local $yb i32)
    (local $xd i32) (local $yd i32) (local $b i32) (local $nb i32) (local $t i32) (local $tend i32)
    (local $bp i32) (local $o i32) (local $bb i32) (local $q8 i32) (local $fix i32) (local $qe i32) (local $qs i32) (local $qo i32)
    (local $qw4 i32) (local $qt4 i32) (local $qw5 i32) (local $qt5 i32) (local $qw6 i32) (local $qt6 i32) (local $qw7 i32) (local $qt7 i32)
    (local $xs v128) (local $ys v128) (local $v v128) (local $n v128) (local $s v128) (local $dx v128)
    (local $m0 v128) (local $m1 v128) (local $m2 v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local $f0 v128) (local $f1 v128) (local $f2 v128) (local $f3 v128)
    (local $g0 v128) (local $g1 v128) (local $g2 v128) (local $g3 v128)
    (local $ws0 v128) (local $ws1 v128) (local $ws2 v128) (local $ws3 v128)
    (local $qt0 i32) (local $qw0 i32) (local $qt1 i32) (local $qw1 i32) (local $qt2 i32) (local $qw2 i32) (local $qt3 i32) (local $qw3 i32)
    (local $qa00 v128) (local $qa01 v128) (local $qa02 v128) (local $qa03 v128) (local $qa10 v128) (local $qa11 v128) (local $qa12 v128) (local $qa13 v128)
    (local $qa20 v128) (local $qa21 v128) (local $qa22 v128) (local $qa23 v128) (local $qa30 v128) (local $qa31 v128) (local $qa32 v128) (local $qa33 v128)
    (local $qf00 v128) (local $qf01 v128) (local $qf02 v128) (local $qf03 v128) (local $qf10 v128) (local $qf11 v128) (local $qf12 v128) (local $qf13 v128)
    (local $qf20 v128) (local $qf21 v128) (local $qf22 v128) (local $qf23 v128) (local $qf30 v128) (local $qf31 v128) (local $qf32 v128) (local $qf33 v128)
    (local $qa40 v128) (local $qa41 v128) (local $qa42 v128) (local $qa43 v128) (local $qf40 v128) (local $qf41 v128) (local $qf42 v128) (local $qf43 v128)
    (local $qa50 v128) (local $qa51 v128) (local $qa52 v128) (local $qa53 v128) (local $qf50 v128) (local $qf51 v128) (local $qf52 v128) (local $qf53 v128)
    (local $qa60 v128) (local $qa61 v128) (local $qa62 v128) (local $qa63 v128) (local $qf60 v128) (local $qf61 v128) (local $qf62 v128) (local $qf63 v128)
    (local $qa70 v128) (local $qa71 v128) (local $qa72 v128) (local $qa73 v128) (local $qf70 v128) (local $qf71 v128) (local $qf72 v128) (local $qf73 v128)
    (local $ux0 i32) (local $ud0 i32) (local $ux1 i32) (local $ud1 i32) (local $ux2 i32) (local $ud2 i32) (local $ux3 i32) (local $ud3 i32) (local $uh i32) (local $rows4 i32) (local $gs i32) (local $g i32) (local $ge i32)
    (local $uH0 v128) (local $uD0 v128) (local $uf00 v128) (local $uf01 v128) (local $uH1 v128) (local $uD1 v128) (local $uf10 v128) (local $uf11 v128) (local $uH2 v128) (local $uD2 v128) (local $uf20 v128) (local $uf21 v128) (local $uH3 v128) (local $uD3 v128) (local $uf30 v128) (local $uf31 v128)
    (local.set $nb (i32.shr_u (local.get $K) (i32.const 5)))
    (local.set $q8 (i32.eq (i32.and (local.get $code) (i32.const 15)) (i32.const {{DT_q8_0}})))
    (local.set $fix (i32.and (local.get $code) (i32.const 16)))
    (local.set $bb (select (i32.const 544) (i32.const 288) (local.get $q8)))
    (local.set $m0 (v128.const i16x8 0x000f 0x000f 0x000f 0x000f 0x000f 0x000f 0x000f 0x000f))
    (local.set $m1 (v128.const i16x8 0x00f0 0x00f0 0x00f0 0x00f0 0x00f0 0x00f0 0x00f0 0x00f0))
    (local.set $m2 (v128.const i16x8 0x0f00 0x0f00 0x0f00 0x0f00 0x0f00 0x0f00 0x0f00 0x0f00))
    ;; One token: eight panels at a time, then four at a time (the last four to seven), then the
    ;; rest one by one (below), so that eight or four streams of weights are in flight, as gemv16's
    ;; 1 x 64 tile does (see there): from main memory one stream of quantized panels read about 6
    ;; GB/s (one token through 4096 x 22016, weights from memory: q8_0 2.0x-2.5x the float32 gemm's
    ;; speed, q4_0 2.8x-3.4x); four read 8-10 GB/s (q8_0 2.8x-3.0x, q4_0 4.8x-5.3x; repeated runs on
    ;; the shared machine). Each panel's sums are the ones below, block by block in the same order,
    ;; so the bits are the same. The tiles' 16 or 32 integer sums are more than the registers V8
    ;; leaves free: the eight-panel tile keeps those of two panels at work in registers (its quarter
    ;; blocks, below), the four-panel one (the last four to seven panels) some on the stack (with
    ;; the weights in cache, it ran about 10-20% slower than one panel at a time when Q8_0 went
    ;; through it that way).
    ;; The panels of a step are an eighth (a quarter) of the caller's panels apart: p, p + n,
    ;; p + 2n, ... for p = p0 .. p0 + n - 1, n = (p1 - p0) / 8 (/ 4) rounded down, so each
    ;; stream walks n neighbouring panels, one run of n * ldw bytes. Four neighbouring panels a
    ;; step made each stream a run of one panel (13 KB at K = 768, 52 KB at K = 3072) that the
    ;; hardware's prefetching found anew at every step of p: one token through 48 768 x 3072
    ;; layers from memory (qrows and qgemm alone, both orders on the same pages, taking turns in
    ;; one process) took 9-11% less time with the four panels a quarter apart, and 16-18% less
    ;; again with eight an eighth apart (1024 x 4096: 9-11%; 512 x 2048: 11-12%; 4096 x 11008:
    ;; 5-6%). Six panels a sixth apart took 8% less time than four, twelve 11%, sixteen 20% (one
    ;; process; 3% less than eight, for twice the tile's code), and starting each stream at
    ;; another panel of its run, so that the streams' addresses differ modulo 4 KiB, 13% more.
    ;; One pure read of 240 MB streams 11.6, 13.8, 15.0 and 15.6 GB/s with 1, 2, 4 and 8 runs
    ;; side by side here (a shared 2-core Intel Xeon); the four-panel tile reads about 13 GB/s,
    ;; the eight-panel one about 16.
    ;; The layer in the bench (1x768x3072x48, one thread, six processes each, taking turns with
    ;; the four neighbouring panels of two pairs a step): q8_0 ran 3.45x-3.77x the float32
    ;; layer's speed (median 3.54x), where it ran 2.57x-2.80x (median 2.62x).
    ;; Q4_0 went four panels a quarter apart until commit 7bf4513; eight an eighth apart took 8%
    ;; less time over 48 768 x 3072 layers from memory (q4_0 over float32 4.97x -> 5.22x, three runs
    ;; each of the bench's 1x768x3072x48, Node 20), about 1% more with one layer in cache (S1). Both
    ;; types go four input pairs (a quarter of a block) at a time: panels 0 and 1 over them, one
    ;; pair a step (8 integer sums, the pair's splat, the weight vectors: they fit in registers),
    ;; then panels 2 and 3 over the same pairs (and so on), so V8 moves the resting panels' sums to
    ;; and from the stack once a quarter block. A step over all four panels (two pairs, as the
    ;; four-panel tile went before) had V8 load its 16 weight vectors before the first dot product
    ;; and keep half of them and some sums on the stack, about 30 moves to 96 operations: the
    ;; quarter blocks took 6-7% less time (same loop alone, same pages, three processes). The pairs
    ;; of panels take turns often so that all the streams stay in flight: a whole block (16 pairs)
    ;; of panels 0 and 1, then of 2 and 3, took 3-4% more time than the four-panel step; eight pairs
    ;; 5% less, four 7% less, two 2% more. A word loaded 8 KiB ahead of each stream and dropped took
    ;; 4-10% off the time with the neighbouring panels' short runs; with the long runs it took 0-3%
    ;; more (4, 12 and 16 KiB ahead no better, 32 and 64 KiB 5-7% more; once a quarter block with
    ;; the quarter blocks, 61% more), so there is none.
    (if (i32.eq (local.get $rows) (i32.const 1)) (then
      ;; A block no branch leaves: without it the encoded module's bytes shift by three and its
      ;; base64 text gzips about 0.5 KB larger (the bundle's budget).
      (block $eight
        (local.set $p (local.get $p0))
        (local.set $qe (i32.add (local.get $p0) (i32.shr_u (i32.sub (local.get $p1) (local.get $p0)) (i32.const 3))))
        (local.set $qs (i32.mul (i32.sub (local.get $qe) (local.get $p0)) (local.get $ldw)))
        (local.set $qo (i32.shl (i32.sub (local.get $qe) (local.get $p0)) (i32.const 6)))
        (block $pe_done
          (loop $pe_next
          (br_if $pe_done (i32.ge_u (local.get $p) (local.get $qe)))
          (local.set $xb (local.get $xq))
          (local.set $xd (i32.add (local.get $xq) (i32.shl (local.get $K) (i32.const 1))))
          (local.set $qw0 (i32.add (local.get $w) (i32.mul (local.get $p) (local.get $ldw))))
          (local.set $qw1 (i32.add (local.get $qw0) (local.get $qs)))
          (local.set $qw2 (i32.add (local.get $qw1) (local.get $qs)))
          (local.set $qw3 (i32.add (local.get $qw2) (local.get $qs)))
          (local.set $qw4 (i32.add (local.get $qw3) (local.get $qs)))
          (local.set $qw5 (i32.add (local.get $qw4) (local.get $qs)))
          (local.set $qw6 (i32.add (local.get $qw5) (local.get $qs)))
          (local.set $qw7 (i32.add (local.get $qw6) (local.get $qs)))
          (local.set $qf00 (v128.const i32x4 0 0 0 0))
          (local.set $qf01 (v128.const i32x4 0 0 0 0))
          (local.set $qf02 (v128.const i32x4 0 0 0 0))
          (local.set $qf03 (v128.const i32x4 0 0 0 0))
          (local.set $qf10 (v128.const i32x4 0 0 0 0))
          (local.set $qf11 (v128.const i32x4 0 0 0 0))
          (local.set $qf12 (v128.const i32x4 0 0 0 0))
          (local.set $qf13 (v128.const i32x4 0 0 0 0))
          (local.set $qf20 (v128.const i32x4 0 0 0 0))
          (local.set $qf21 (v128.const i32x4 0 0 0 0))
          (local.set $qf22 (v128.const i32x4 0 0 0 0))
          (local.set $qf23 (v128.const i32x4 0 0 0 0))
          (local.set $qf30 (v128.const i32x4 0 0 0 0))
          (local.set $qf31 (v128.const i32x4 0 0 0 0))
          (local.set $qf32 (v128.const i32x4 0 0 0 0))
          (local.set $qf33 (v128.const i32x4 0 0 0 0))
          (local.set $qf40 (v128.const i32x4 0 0 0 0))
          (local.set $qf41 (v128.const i32x4 0 0 0 0))
          (local.set $qf42 (v128.const i32x4 0 0 0 0))
          (local.set $qf43 (v128.const i32x4 0 0 0 0))
          (local.set $qf50 (v128.const i32x4 0 0 0 0))
          (local.set $qf51 (v128.const i32x4 0 0 0 0))
          (local.set $qf52 (v128.const i32x4 0 0 0 0))
          (local.set $qf53 (v128.const i32x4 0 0 0 0))
          (local.set $qf60 (v128.const i32x4 0 0 0 0))
          (local.set $qf61 (v128.const i32x4 0 0 0 0))
          (local.set $qf62 (v128.const i32x4 0 0 0 0))
          (local.set $qf63 (v128.const i32x4 0 0 0 0))
          (local.set $qf70 (v128.const i32x4 0 0 0 0))
          (local.set $qf71 (v128.const i32x4 0 0 0 0))
          (local.set $qf72 (v128.const i32x4 0 0 0 0))
          (local.set $qf73 (v128.const i32x4 0 0 0 0))
          (local.set $b (i32.const 0))
          (loop $peb_next
            (local.set $qa00 (v128.const i32x4 0 0 0 0))
            (local.set $qa01 (v128.const i32x4 0 0 0 0))
            (local.set $qa02 (v128.const i32x4 0 0 0 0))
            (local.set $qa03 (v128.const i32x4 0 0 0 0))
            (local.set $qa10 (v128.const i32x4 0 0 0 0))
            (local.set $qa11 (v128.const i32x4 0 0 0 0))
            (local.set $qa12 (v128.const i32x4 0 0 0 0))
            (local.set $qa13 (v128.const i32x4 0 0 0 0))
            (local.set $qa20 (v128.const i32x4 0 0 0 0))
            (local.set $qa21 (v128.const i32x4 0 0 0 0))
            (local.set $qa22 (v128.const i32x4 0 0 0 0))
            (local.set $qa23 (v128.const i32x4 0 0 0 0))
            (local.set $qa30 (v128.const i32x4 0 0 0 0))
            (local.set $qa31 (v128.const i32x4 0 0 0 0))
            (local.set $qa32 (v128.const i32x4 0 0 0 0))
            (local.set $qa33 (v128.const i32x4 0 0 0 0))
            (local.set $qa40 (v128.const i32x4 0 0 0 0))
            (local.set $qa41 (v128.const i32x4 0 0 0 0))
            (local.set $qa42 (v128.const i32x4 0 0 0 0))
            (local.set $qa43 (v128.const i32x4 0 0 0 0))
            (local.set $qa50 (v128.const i32x4 0 0 0 0))
            (local.set $qa51 (v128.const i32x4 0 0 0 0))
            (local.set $qa52 (v128.const i32x4 0 0 0 0))
            (local.set $qa53 (v128.const i32x4 0 0 0 0))
            (local.set $qa60 (v128.const i32x4 0 0 0 0))
            (local.set $qa61 (v128.const i32x4 0 0 0 0))
            (local.set $qa62 (v128.const i32x4 0 0 0 0))
            (local.set $qa63 (v128.const i32x4 0 0 0 0))
            (local.set $qa70 (v128.const i32x4 0 0 0 0))
            (local.set $qa71 (v128.const i32x4 0 0 0 0))
            (local.set $qa72 (v128.const i32x4 0 0 0 0))
            (local.set $qa73 (v128.const i32x4 0 0 0 0))
            (local.set $qt0 (i32.add (local.get $qw0) (i32.const 32)))
            (local.set $qt1 (i32.add (local.get $qw1) (i32.const 32)))
            (local.set $qt2 (i32.add (local.get $qw2) (i32.const 32)))
            (local.set $qt3 (i32.add (local.get $qw3) (i32.const 32)))
            (local.set $qt4 (i32.add (local.get $qw4) (i32.const 32)))
            (local.set $qt5 (i32.add (local.get $qw5) (i32.const 32)))
            (local.set $qt6 (i32.add (local.get $qw6) (i32.const 32)))
            (local.set $qt7 (i32.add (local.get $qw7) (i32.const 32)))
            (local.set $tend (i32.add (local.get $qw0) (local.get $bb)))
            ;; Q8_0: two 16-bit lanes' quants a byte each (32 bytes a pair); Q4_0: four nibbles a
            ;; lane (16 bytes a pair), masked as in the four-panel tile below.
            (if (local.get $q8) (then
            (loop $pe8
              (local.set $t (i32.add (local.get $qt0) (i32.const 128)))
              (loop $pe8_01
              (local.set $xs (v128.load32_splat offset=0 (local.get $xb)))
              (local.set $v (v128.load offset=0 (local.get $qt0)))
              (local.set $qa00 (i32x4.add (local.get $qa00) (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $v) (i32.const 8)) (local.get $xs))))
              (local.set $qa01 (i32x4.add (local.get $qa01) (i32x4.dot_i16x8_s (local.get $v) (local.get $xs))))
              (local.set $v (v128.load offset=16 (local.get $qt0)))
              (local.set $qa02 (i32x4.add (local.get $qa02) (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $v) (i32.const 8)) (local.get $xs))))
              (local.set $qa03 (i32x4.add (local.get $qa03) (i32x4.dot_i16x8_s (local.get $v) (local.get $xs))))
              (local.set $v (v128.load offset=0 (local.get $qt1)))
              (local.set $qa10 (i32x4.add (local.get $qa10) (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $v) (i32.const 8)) (local.get $xs))))
              (local.set $qa11 (i32x4.add (local.get $qa11) (i32x4.dot_i16x8_s (local.get $v) (local.get $xs))))
              (local.set $v (v128.load offset=16 (local.get $qt1)))
              (local.set $qa12 (i32x4.add (local.get $qa12) (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $v) (i32.const 8)) (local.get $xs))))
              (local.set $qa13 (i32x4.add (local.get $qa13) (i32x4.dot_i16x8_s (local.get $v) (local.get $xs))))
              (local.set $xb (i32.add (local.get $xb) (i32.const 4)))
              (local.set $qt0 (i32.add (local.get $qt0) (i32.const 32)))
              (local.set $qt1 (i32.add (local.get $qt1) (i32.const 32)))
              (br_if $pe8_01 (i32.lt_u (local.get $qt0) (local.get $t))))
              (local.set $xb (i32.sub (local.get $xb) (i32.const 16)))
              (local.set $t (i32.add (local.get $qt2) (i32.const 128)))
              (loop $pe8_23
              (local.set $xs (v128.load32_splat offset=0 (local.get $xb)))
              (local.set $v (v128.load offset=0 (local.get $qt2)))
              (local.set $qa20 (i32x4.add (local.get $qa20) (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $v) (i32.const 8)) (local.get $xs))))
              (local.set $qa21 (i32x4.add (local.get $qa21) (i32x4.dot_i16x8_s (local.get $v) (local.get $xs))))
              (local.set $v (v128.load offset=16 (local.get $qt2)))
              (local.set $qa22 (i32x4.add (local.get $qa22) (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $v) (i32.const 8)) (local.get $xs))))
              (local.set $qa23 (i32x4.add (local.get $qa23) (i32x4.dot_i16x8_s (local.get $v) (local.get $xs))))
              (local.set $v (v128.load offset=0 (local.get $qt3)))
              (local.set $qa30 (i32x4.add (local.get $qa30) (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $v) (i32.const 8)) (local.get $xs))))
              (local.set $qa31 (i32x4.add (local.get $qa31) (i32x4.dot_i16x8_s (local.get $v) (local.get $xs))))
              (local.set $v (v128.load offset=16 (local.get $qt3)))
              (local.set $qa32 (i32x4.add (local.get $qa32) (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $v) (i32.const 8)) (local.get $xs))))
              (local.set $qa33 (i32x4.add (local.get $qa33) (i32x4.dot_i16x8_s (local.get $v) (local.get $xs))))
              (local.set $xb (i32.add (local.get $xb) (i32.const 4)))
              (local.set $qt2 (i32.add (local.get $qt2) (i32.const 32)))
              (local.set $qt3 (i32.add (local.get $qt3) (i32.const 32)))
              (br_if $pe8_23 (i32.lt_u (local.get $qt2) (local.get $t))))
              (local.set $xb (i32.sub (local.get $xb) (i32.const 16)))
              (local.set $t (i32.add (local.get $qt4) (i32.const 128)))
              (loop $pe8_45
              (local.set $xs (v128.load32_splat offset=0 (local.get $xb)))
              (local.set $v (v128.load offset=0 (local.get $qt4)))
              (local.set $qa40 (i32x4.add (local.get $qa40) (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $v) (i32.const 8)) (local.get $xs))))
              (local.set $qa41 (i32x4.add (local.get $qa41) (i32x4.dot_i16x8_s (local.get $v) (local.get $xs))))
              (local.set $v (v128.load offset=16 (local.get $qt4)))
              (local.set $qa42 (i32x4.add (local.get $qa42) (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $v) (i32.const 8)) (local.get $xs))))
              (local.set $qa43 (i32x4.add (local.get $qa43) (i32x4.dot_i16x8_s (local.get $v) (local.get $xs))))
              (local.set $v (v128.load offset=0 (local.get $qt5)))
              (local.set $qa50 (i32x4.add (local.get $qa50) (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $v) (i32.const 8)) (local.get $xs))))
              (local.set $qa51 (i32x4.add (local.get $qa51) (i32x4.dot_i16x8_s (local.get $v) (local.get $xs))))
              (local.set $v (v128.load offset=16 (local.get $qt5)))
              (local.set $qa52 (i32x4.add (local.get $qa52) (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $v) (i32.const 8)) (local.get $xs))))
              (local.set $qa53 (i32x4.add (local.get $qa53) (i32x4.dot_i16x8_s (local.get $v) (local.get $xs))))
              (local.set $xb (i32.add (local.get $xb) (i32.const 4)))
              (local.set $qt4 (i32.add (local.get $qt4) (i32.const 32)))
              (local.set $qt5 (i32.add (local.get $qt5) (i32.const 32)))
              (br_if $pe8_45 (i32.lt_u (local.get $qt4) (local.get $t))))
              (local.set $xb (i32.sub (local.get $xb) (i32.const 16)))
              (local.set $t (i32.add (local.get $qt6) (i32.const 128)))
              (loop $pe8_67
              (local.set $xs (v128.load32_splat offset=0 (local.get $xb)))
              (local.set $v (v128.load offset=0 (local.get $qt6)))
              (local.set $qa60 (i32x4.add (local.get $qa60) (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $v) (i32.const 8)) (local.get $xs))))
              (local.set $qa61 (i32x4.add (local.get $qa61) (i32x4.dot_i16x8_s (local.get $v) (local.get $xs))))
              (local.set $v (v128.load offset=16 (local.get $qt6)))
              (local.set $qa62 (i32x4.add (local.get $qa62) (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $v) (i32.const 8)) (local.get $xs))))
              (local.set $qa63 (i32x4.add (local.get $qa63) (i32x4.dot_i16x8_s (local.get $v) (local.get $xs))))
              (local.set $v (v128.load offset=0 (local.get $qt7)))
              (local.set $qa70 (i32x4.add (local.get $qa70) (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $v) (i32.const 8)) (local.get $xs))))
              (local.set $qa71 (i32x4.add (local.get $qa71) (i32x4.dot_i16x8_s (local.get $v) (local.get $xs))))
              (local.set $v (v128.load offset=16 (local.get $qt7)))
              (local.set $qa72 (i32x4.add (local.get $qa72) (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $v) (i32.const 8)) (local.get $xs))))
              (local.set $qa73 (i32x4.add (local.get $qa73) (i32x4.dot_i16x8_s (local.get $v) (local.get $xs))))
              (local.set $xb (i32.add (local.get $xb) (i32.const 4)))
              (local.set $qt6 (i32.add (local.get $qt6) (i32.const 32)))
              (local.set $qt7 (i32.add (local.get $qt7) (i32.const 32)))
              (br_if $pe8_67 (i32.lt_u (local.get $qt6) (local.get $t))))
              (br_if $pe8 (i32.lt_u (local.get $qt0) (local.get $tend))))
            ) (else
            (loop $pe4
              (local.set $t (i32.add (local.get $qt0) (i32.const 64)))
              (loop $pe4_01
              (local.set $xs (v128.load32_splat offset=0 (local.get $xb)))
              (local.set $v (v128.load offset=0 (local.get $qt0)))
              (local.set $qa00 (i32x4.add (local.get $qa00) (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m0)) (local.get $xs))))
              (local.set $qa01 (i32x4.add (local.get $qa01) (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m1)) (local.get $xs))))
              (local.set $qa02 (i32x4.add (local.get $qa02) (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m2)) (local.get $xs))))
              (local.set $qa03 (i32x4.add (local.get $qa03) (i32x4.dot_i16x8_s (i16x8.shr_u (local.get $v) (i32.const 12)) (local.get $xs))))
              (local.set $v (v128.load offset=0 (local.get $qt1)))
              (local.set $qa10 (i32x4.add (local.get $qa10) (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m0)) (local.get $xs))))
              (local.set $qa11 (i32x4.add (local.get $qa11) (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m1)) (local.get $xs))))
              (local.set $qa12 (i32x4.add (local.get $qa12) (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m2)) (local.get $xs))))
              (local.set $qa13 (i32x4.add (local.get $qa13) (i32x4.dot_i16x8_s (i16x8.shr_u (local.get $v) (i32.const 12)) (local.get $xs))))
              (local.set $xb (i32.add (local.get $xb) (i32.const 4)))
              (local.set $qt0 (i32.add (local.get $qt0) (i32.const 16)))
              (local.set $qt1 (i32.add (local.get $qt1) (i32.const 16)))
              (br_if $pe4_01 (i32.lt_u (local.get $qt0) (local.get $t))))
              (local.set $xb (i32.sub (local.get $xb) (i32.const 16)))
              (local.set $t (i32.add (local.get $qt2) (i32.const 64)))
              (loop $pe4_23
              (local.set $xs (v128.load32_splat offset=0 (local.get $xb)))
              (local.set $v (v128.load offset=0 (local.get $qt2)))
              (local.set $qa20 (i32x4.add (local.get $qa20) (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m0)) (local.get $xs))))
              (local.set $qa21 (i32x4.add (local.get $qa21) (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m1)) (local.get $xs))))
              (local.set $qa22 (i32x4.add (local.get $qa22) (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m2)) (local.get $xs))))
              (local.set $qa23 (i32x4.add (local.get $qa23) (i32x4.dot_i16x8_s (i16x8.shr_u (local.get $v) (i32.const 12)) (local.get $xs))))
              (local.set $v (v128.load offset=0 (local.get $qt3)))
              (local.set $qa30 (i32x4.add (local.get $qa30) (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m0)) (local.get $xs))))
              (local.set $qa31 (i32x4.add (local.get $qa31) (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m1)) (local.get $xs))))
              (local.set $qa32 (i32x4.add (local.get $qa32) (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m2)) (local.get $xs))))
              (local.set $qa33 (i32x4.add (local.get $qa33) (i32x4.dot_i16x8_s (i16x8.shr_u (local.get $v) (i32.const 12)) (local.get $xs))))
              (local.set $xb (i32.add (local.get $xb) (i32.const 4)))
              (local.set $qt2 (i32.add (local.get $qt2) (i32.const 16)))
              (local.set $qt3 (i32.add (local.get $qt3) (i32.const 16)))
              (br_if $pe4_23 (i32.lt_u (local.get $qt2) (local.get $t))))
              (local.set $xb (i32.sub (local.get $xb) (i32.const 16)))
              (local.set $t (i32.add (local.get $qt4) (i32.const 64)))
              (loop $pe4_45
              (local.set $xs (v128.load32_splat offset=0 (local.get $xb)))
              (local.set $v (v128.load offset=0 (local.get $qt4)))
              (local.set $qa40 (i32x4.add (local.get $qa40) (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m0)) (local.get $xs))))
              (local.set $qa41 (i32x4.add (local.get $qa41) (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m1)) (local.get $xs))))
              (local.set $qa42 (i32x4.add (local.get $qa42) (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m2)) (local.get $xs))))
              (local.set $qa43 (i32x4.add (local.get $qa43) (i32x4.dot_i16x8_s (i16x8.shr_u (local.get $v) (i32.const 12)) (local.get $xs))))
              (local.set $v (v128.load offset=0 (local.get $qt5)))
              (local.set $qa50 (i32x4.add (local.get $qa50) (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m0)) (local.get $xs))))
              (local.set $qa51 (i32x4.add (local.get $qa51) (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m1)) (local.get $xs))))
              (local.set $qa52 (i32x4.add (local.get $qa52) (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m2)) (local.get $xs))))
              (local.set $qa53 (i32x4.add (local.get $qa53) (i32x4.dot_i16x8_s (i16x8.shr_u (local.get $v) (i32.const 12)) (local.get $xs))))
              (local.set $xb (i32.add (local.get $xb) (i32.const 4)))
              (local.set $qt4 (i32.add (local.get $qt4) (i32.const 16)))
              (local.set $qt5 (i32.add (local.get $qt5) (i32.const 16)))
              (br_if $pe4_45 (i32.lt_u (local.get $qt4) (local.get $t))))
              (local.set $xb (i32.sub (local.get $xb) (i32.const 16)))
              (local.set $t (i32.add (local.get $qt6) (i32.const 64)))
              (loop $pe4_67
              (local.set $xs (v128.load32_splat offset=0 (local.get $xb)))
              (local.set $v (v128.load offset=0 (local.get $qt6)))
              (local.set $qa60 (i32x4.add (local.get $qa60) (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m0)) (local.get $xs))))
              (local.set $qa61 (i32x4.add (local.get $qa61) (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m1)) (local.get $xs))))
              (local.set $qa62 (i32x4.add (local.get $qa62) (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m2)) (local.get $xs))))
              (local.set $qa63 (i32x4.add (local.get $qa63) (i32x4.dot_i16x8_s (i16x8.shr_u (local.get $v) (i32.const 12)) (local.get $xs))))
              (local.set $v (v128.load offset=0 (local.get $qt7)))
              (local.set $qa70 (i32x4.add (local.get $qa70) (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m0)) (local.get $xs))))
              (local.set $qa71 (i32x4.add (local.get $qa71) (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m1)) (local.get $xs))))
              (local.set $qa72 (i32x4.add (local.get $qa72) (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m2)) (local.get $xs))))
              (local.set $qa73 (i32x4.add (local.get $qa73) (i32x4.dot_i16x8_s (i16x8.shr_u (local.get $v) (i32.const 12)) (local.get $xs))))
              (local.set $xb (i32.add (local.get $xb) (i32.const 4)))
              (local.set $qt6 (i32.add (local.get $qt6) (i32.const 16)))
              (local.set $qt7 (i32.add (local.get $qt7) (i32.const 16)))
              (br_if $pe4_67 (i32.lt_u (local.get $qt6) (local.get $t))))
              (br_if $pe4 (i32.lt_u (local.get $qt0) (local.get $tend))))
            ))
            (local.set $dx (v128.load32_splat (local.get $xd)))
            (local.set $s (v128.load32_splat offset=4 (local.get $xd)))
            (if (local.get $q8) (then (local.set $s (i32x4.shl (local.get $s) (i32.const 4)))))
            (local.set $ws0 (v128.and (i32x4.shl (v128.load16x4_s offset=0 (local.get $qw0)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
            (local.set $ws1 (v128.and (i32x4.shl (v128.load16x4_s offset=8 (local.get $qw0)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
            (local.set $ws2 (v128.and (i32x4.shl (v128.load16x4_s offset=16 (local.get $qw0)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
            (local.set $ws3 (v128.and (i32x4.shl (v128.load16x4_s offset=24 (local.get $qw0)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
            (if (local.get $fix) (then
              (local.set $ws0 (v128.or (local.get $ws0) (v128.and (i32x4.eq (v128.and (local.get $ws0) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
              (local.set $ws1 (v128.or (local.get $ws1) (v128.and (i32x4.eq (v128.and (local.get $ws1) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
              (local.set $ws2 (v128.or (local.get $ws2) (v128.and (i32x4.eq (v128.and (local.get $ws2) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
              (local.set $ws3 (v128.or (local.get $ws3) (v128.and (i32x4.eq (v128.and (local.get $ws3) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
            ))
            (if (local.get $q8)
              (then
              (local.set $qa01 (i32x4.sub (i32x4.sub (local.get $qa01) (i32x4.shl (local.get $qa00) (i32.const 8))) (local.get $s)))
              (local.set $qa03 (i32x4.sub (i32x4.sub (local.get $qa03) (i32x4.shl (local.get $qa02) (i32.const 8))) (local.get $s))))
              (else
              (local.set $qa00 (i32x4.sub (local.get $qa00) (local.get $s)))
              (local.set $qa01 (i32x4.sub (i32x4.shr_s (local.get $qa01) (i32.const 4)) (local.get $s)))
              (local.set $qa02 (i32x4.sub (i32x4.shr_s (local.get $qa02) (i32.const 8)) (local.get $s)))
              (local.set $qa03 (i32x4.sub (local.get $qa03) (local.get $s)))))
            (local.set $qf00 (f32x4.add (local.get $qf00) (f32x4.mul (f32x4.convert_i32x4_s (local.get $qa00)) (f32x4.mul (local.get $ws0) (local.get $dx)))))
            (local.set $qf01 (f32x4.add (local.get $qf01) (f32x4.mul (f32x4.convert_i32x4_s (local.get $qa01)) (f32x4.mul (local.get $ws1) (local.get $dx)))))
            (local.set $qf02 (f32x4.add (local.get $qf02) (f32x4.mul (f32x4.convert_i32x4_s (local.get $qa02)) (f32x4.mul (local.get $ws2) (local.get $dx)))))
            (local.set $qf03 (f32x4.add (local.get $qf03) (f32x4.mul (f32x4.convert_i32x4_s (local.get $qa03)) (f32x4.mul (local.get $ws3) (local.get $dx)))))
            (local.set $ws0 (v128.and (i32x4.shl (v128.load16x4_s offset=0 (local.get $qw1)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
            (local.set $ws1 (v128.and (i32x4.shl (v128.load16x4_s offset=8 (local.get $qw1)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
            (local.set $ws2 (v128.and (i32x4.shl (v128.load16x4_s offset=16 (local.get $qw1)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
            (local.set $ws3 (v128.and (i32x4.shl (v128.load16x4_s offset=24 (local.get $qw1)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
            (if (local.get $fix) (then
              (local.set $ws0 (v128.or (local.get $ws0) (v128.and (i32x4.eq (v128.and (local.get $ws0) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
              (local.set $ws1 (v128.or (local.get $ws1) (v128.and (i32x4.eq (v128.and (local.get $ws1) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
              (local.set $ws2 (v128.or (local.get $ws2) (v128.and (i32x4.eq (v128.and (local.get $ws2) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
              (local.set $ws3 (v128.or (local.get $ws3) (v128.and (i32x4.eq (v128.and (local.get $ws3) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
            ))
            (if (local.get $q8)
              (then
              (local.set $qa11 (i32x4.sub (i32x4.sub (local.get $qa11) (i32x4.shl (local.get $qa10) (i32.const 8))) (local.get $s)))
              (local.set $qa13 (i32x4.sub (i32x4.sub (local.get $qa13) (i32x4.shl (local.get $qa12) (i32.const 8))) (local.get $s))))
              (else
              (local.set $qa10 (i32x4.sub (local.get $qa10) (local.get $s)))
              (local.set $qa11 (i32x4.sub (i32x4.shr_s (local.get $qa11) (i32.const 4)) (local.get $s)))
              (local.set $qa12 (i32x4.sub (i32x4.shr_s (local.get $qa12) (i32.const 8)) (local.get $s)))
              (local.set $qa13 (i32x4.sub (local.get $qa13) (local.get $s)))))
            (local.set $qf10 (f32x4.add (local.get $qf10) (f32x4.mul (f32x4.convert_i32x4_s (local.get $qa10)) (f32x4.mul (local.get $ws0) (local.get $dx)))))
            (local.set $qf11 (f32x4.add (local.get $qf11) (f32x4.mul (f32x4.convert_i32x4_s (local.get $qa11)) (f32x4.mul (local.get $ws1) (local.get $dx)))))
            (local.set $qf12 (f32x4.add (local.get $qf12) (f32x4.mul (f32x4.convert_i32x4_s (local.get $qa12)) (f32x4.mul (local.get $ws2) (local.get $dx)))))
            (local.set $qf13 (f32x4.add (local.get $qf13) (f32x4.mul (f32x4.convert_i32x4_s (local.get $qa13)) (f32x4.mul (local.get $ws3) (local.get $dx)))))
            (local.set $ws0 (v128.and (i32x4.shl (v128.load16x4_s offset=0 (local.get $qw2)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
            (local.set $ws1 (v128.and (i32x4.shl (v128.load16x4_s offset=8 (local.get $qw2)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
            (local.set $ws2 (v128.and (i32x4.shl (v128.load16x4_s offset=16 (local.get $qw2)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
            (local.set $ws3 (v128.and (i32x4.shl (v128.load16x4_s offset=24 (local.get $qw2)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
            (if (local.get $fix) (then
              (local.set $ws0 (v128.or (local.get $ws0) (v128.and (i32x4.eq (v128.and (local.get $ws0) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
              (local.set $ws1 (v128.or (local.get $ws1) (v128.and (i32x4.eq (v128.and (local.get $ws1) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
              (local.set $ws2 (v128.or (local.get $ws2) (v128.and (i32x4.eq (v128.and (local.get $ws2) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
              (local.set $ws3 (v128.or (local.get $ws3) (v128.and (i32x4.eq (v128.and (local.get $ws3) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
            ))
            (if (local.get $q8)
              (then
              (local.set $qa21 (i32x4.sub (i32x4.sub (local.get $qa21) (i32x4.shl (local.get $qa20) (i32.const 8))) (local.get $s)))
              (local.set $qa23 (i32x4.sub (i32x4.sub (local.get $qa23) (i32x4.shl (local.get $qa22) (i32.const 8))) (local.get $s))))
              (else
              (local.set $qa20 (i32x4.sub (local.get $qa20) (local.get $s)))
              (local.set $qa21 (i32x4.sub (i32x4.shr_s (local.get $qa21) (i32.const 4)) (local.get $s)))
              (local.set $qa22 (i32x4.sub (i32x4.shr_s (local.get $qa22) (i32.const 8)) (local.get $s)))
              (local.set $qa23 (i32x4.sub (local.get $qa23) (local.get $s)))))
            (local.set $qf20 (f32x4.add (local.get $qf20) (f32x4.mul (f32x4.convert_i32x4_s (local.get $qa20)) (f32x4.mul (local.get $ws0) (local.get $dx)))))
            (local.set $qf21 (f32x4.add (local.get $qf21) (f32x4.mul (f32x4.convert_i32x4_s (local.get $qa21)) (f32x4.mul (local.get $ws1) (local.get $dx)))))
            (local.set $qf22 (f32x4.add (local.get $qf22) (f32x4.mul (f32x4.convert_i32x4_s (local.get $qa22)) (f32x4.mul (local.get $ws2) (local.get $dx)))))
            (local.set $qf23 (f32x4.add (local.get $qf23) (f32x4.mul (f32x4.convert_i32x4_s (local.get $qa23)) (f32x4.mul (local.get $ws3) (local.get $dx)))))
            (local.set $ws0 (v128.and (i32x4.shl (v128.load16x4_s offset=0 (local.get $qw3)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
            (local.set $ws1 (v128.and (i32x4.shl (v128.load16x4_s offset=8 (local.get $qw3)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
            (local.set $ws2 (v128.and (i32x4.shl (v128.load16x4_s offset=16 (local.get $qw3)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
            (local.set $ws3 (v128.and (i32x4.shl (v128.load16x4_s offset=24 (local.get $qw3)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
            (if (local.get $fix) (then
              (local.set $ws0 (v128.or (local.get $ws0) (v128.and (i32x4.eq (v128.and (local.get $ws0) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
              (local.set $ws1 (v128.or (local.get $ws1) (v128.and (i32x4.eq (v128.and (local.get $ws1) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
              (local.set $ws2 (v128.or (local.get $ws2) (v128.and (i32x4.eq (v128.and (local.get $ws2) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
              (local.set $ws3 (v128.or (local.get $ws3) (v128.and (i32x4.eq (v128.and (local.get $ws3) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
            ))
            (if (local.get $q8)
              (then
              (local.set $qa31 (i32x4.sub (i32x4.sub (local.get $qa31) (i32x4.shl (local.get $qa30) (i32.const 8))) (local.get $s)))
              (local.set $qa33 (i32x4.sub (i32x4.sub (local.get $qa33) (i32x4.shl (local.get $qa32) (i32.const 8))) (local.get $s))))
              (else
              (local.set $qa30 (i32x4.sub (local.get $qa30) (local.get $s)))
              (local.set $qa31 (i32x4.sub (i32x4.shr_s (local.get $qa31) (i32.const 4)) (local.get $s)))
              (local.set $qa32 (i32x4.sub (i32x4.shr_s (local.get $qa32) (i32.const 8)) (local.get $s)))
              (local.set $qa33 (i32x4.sub (local.get $qa33) (local.get $s)))))
            (local.set $qf30 (f32x4.add (local.get $qf30) (f32x4.mul (f32x4.convert_i32x4_s (local.get $qa30)) (f32x4.mul (local.get $ws0) (local.get $dx)))))
            (local.set $qf31 (f32x4.add (local.get $qf31) (f32x4.mul (f32x4.convert_i32x4_s (local.get $qa31)) (f32x4.mul (local.get $ws1) (local.get $dx)))))
            (local.set $qf32 (f32x4.add (local.get $qf32) (f32x4.mul (f32x4.convert_i32x4_s (local.get $qa32)) (f32x4.mul (local.get $ws2) (local.get $dx)))))
            (local.set $qf33 (f32x4.add (local.get $qf33) (f32x4.mul (f32x4.convert_i32x4_s (local.get $qa33)) (f32x4.mul (local.get $ws3) (local.get $dx)))))
            (local.set $ws0 (v128.and (i32x4.shl (v128.load16x4_s offset=0 (local.get $qw4)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
            (local.set $ws1 (v128.and (i32x4.shl (v128.load16x4_s offset=8 (local.get $qw4)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
            (local.set $ws2 (v128.and (i32x4.shl (v128.load16x4_s offset=16 (local.get $qw4)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
            (local.set $ws3 (v128.and (i32x4.shl (v128.load16x4_s offset=24 (local.get $qw4)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
            (if (local.get $fix) (then
              (local.set $ws0 (v128.or (local.get $ws0) (v128.and (i32x4.eq (v128.and (local.get $ws0) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
              (local.set $ws1 (v128.or (local.get $ws1) (v128.and (i32x4.eq (v128.and (local.get $ws1) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
              (local.set $ws2 (v128.or (local.get $ws2) (v128.and (i32x4.eq (v128.and (local.get $ws2) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
              (local.set $ws3 (v128.or (local.get $ws3) (v128.and (i32x4.eq (v128.and (local.get $ws3) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
            ))
            (if (local.get $q8)
              (then
              (local.set $qa41 (i32x4.sub (i32x4.sub (local.get $qa41) (i32x4.shl (local.get $qa40) (i32.const 8))) (local.get $s)))
              (local.set $qa43 (i32x4.sub (i32x4.sub (local.get $qa43) (i32x4.shl (local.get $qa42) (i32.const 8))) (local.get $s))))
              (else
              (local.set $qa40 (i32x4.sub (local.get $qa40) (local.get $s)))
              (local.set $qa41 (i32x4.sub (i32x4.shr_s (local.get $qa41) (i32.const 4)) (local.get $s)))
              (local.set $qa42 (i32x4.sub (i32x4.shr_s (local.get $qa42) (i32.const 8)) (local.get $s)))
              (local.set $qa43 (i32x4.sub (local.get $qa43) (local.get $s)))))
            (local.set $qf40 (f32x4.add (local.get $qf40) (f32x4.mul (f32x4.convert_i32x4_s (local.get $qa40)) (f32x4.mul (local.get $ws0) (local.get $dx)))))
            (local.set $qf41 (f32x4.add (local.get $qf41) (f32x4.mul (f32x4.convert_i32x4_s (local.get $qa41)) (f32x4.mul (local.get $ws1) (local.get $dx)))))
            (local.set $qf42 (f32x4.add (local.get $qf42) (f32x4.mul (f32x4.convert_i32x4_s (local.get $qa42)) (f32x4.mul (local.get $ws2) (local.get $dx)))))
            (local.set $qf43 (f32x4.add (local.get $qf43) (f32x4.mul (f32x4.convert_i32x4_s (local.get $qa43)) (f32x4.mul (local.get $ws3) (local.get $dx)))))
            (local.set $ws0 (v128.and (i32x4.shl (v128.load16x4_s offset=0 (local.get $qw5)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
            (local.set $ws1 (v128.and (i32x4.shl (v128.load16x4_s offset=8 (local.get $qw5)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
            (local.set $ws2 (v128.and (i32x4.shl (v128.load16x4_s offset=16 (local.get $qw5)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
            (local.set $ws3 (v128.and (i32x4.shl (v128.load16x4_s offset=24 (local.get $qw5)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
            (if (local.get $fix) (then
              (local.set $ws0 (v128.or (local.get $ws0) (v128.and (i32x4.eq (v128.and (local.get $ws0) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
              (local.set $ws1 (v128.or (local.get $ws1) (v128.and (i32x4.eq (v128.and (local.get $ws1) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
              (local.set $ws2 (v128.or (local.get $ws2) (v128.and (i32x4.eq (v128.and (local.get $ws2) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
              (local.set $ws3 (v128.or (local.get $ws3) (v128.and (i32x4.eq (v128.and (local.get $ws3) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
            ))
            (if (local.get $q8)
              (then
              (local.set $qa51 (i32x4.sub (i32x4.sub (local.get $qa51) (i32x4.shl (local.get $qa50) (i32.const 8))) (local.get $s)))
              (local.set $qa53 (i32x4.sub (i32x4.sub (local.get $qa53) (i32x4.shl (local.get $qa52) (i32.const 8))) (local.get $s))))
              (else
              (local.set $qa50 (i32x4.sub (local.get $qa50) (local.get $s)))
              (local.set $qa51 (i32x4.sub (i32x4.shr_s (local.get $qa51) (i32.const 4)) (local.get $s)))
              (local.set $qa52 (i32x4.sub (i32x4.shr_s (local.get $qa52) (i32.const 8)) (local.get $s)))
              (local.set $qa53 (i32x4.sub (local.get $qa53) (local.get $s)))))
            (local.set $qf50 (f32x4.add (local.get $qf50) (f32x4.mul (f32x4.convert_i32x4_s (local.get $qa50)) (f32x4.mul (local.get $ws0) (local.get $dx)))))
            (local.set $qf51 (f32x4.add (local.get $qf51) (f32x4.mul (f32x4.convert_i32x4_s (local.get $qa51)) (f32x4.mul (local.get $ws1) (local.get $dx)))))
            (local.set $qf52 (f32x4.add (local.get $qf52) (f32x4.mul (f32x4.convert_i32x4_s (local.get $qa52)) (f32x4.mul (local.get $ws2) (local.get $dx)))))
            (local.set $qf53 (f32x4.add (local.get $qf53) (f32x4.mul (f32x4.convert_i32x4_s (local.get $qa53)) (f32x4.mul (local.get $ws3) (local.get $dx)))))
            (local.set $ws0 (v128.and (i32x4.shl (v128.load16x4_s offset=0 (local.get $qw6)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
            (local.set $ws1 (v128.and (i32x4.shl (v128.load16x4_s offset=8 (local.get $qw6)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
            (local.set $ws2 (v128.and (i32x4.shl (v128.load16x4_s offset=16 (local.get $qw6)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
            (local.set $ws3 (v128.and (i32x4.shl (v128.load16x4_s offset=24 (local.get $qw6)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
            (if (local.get $fix) (then
              (local.set $ws0 (v128.or (local.get $ws0) (v128.and (i32x4.eq (v128.and (local.get $ws0) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
              (local.set $ws1 (v128.or (local.get $ws1) (v128.and (i32x4.eq (v128.and (local.get $ws1) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
              (local.set $ws2 (v128.or (local.get $ws2) (v128.and (i32x4.eq (v128.and (local.get $ws2) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
              (local.set $ws3 (v128.or (local.get $ws3) (v128.and (i32x4.eq (v128.and (local.get $ws3) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
            ))
            (if (local.get $q8)
              (then
              (local.set $qa61 (i32x4.sub (i32x4.sub (local.get $qa61) (i32x4.shl (local.get $qa60) (i32.const 8))) (local.get $s)))
              (local.set $qa63 (i32x4.sub (i32x4.sub (local.get $qa63) (i32x4.shl (local.get $qa62) (i32.const 8))) (local.get $s))))
              (else
              (local.set $qa60 (i32x4.sub (local.get $qa60) (local.get $s)))
              (local.set $qa61 (i32x4.sub (i32x4.shr_s (local.get $qa61) (i32.const 4)) (local.get $s)))
              (local.set $qa62 (i32x4.sub (i32x4.shr_s (local.get $qa62) (i32.const 8)) (local.get $s)))
              (local.set $qa63 (i32x4.sub (local.get $qa63) (local.get $s)))))
            (local.set $qf60 (f32x4.add (local.get $qf60) (f32x4.mul (f32x4.convert_i32x4_s (local.get $qa60)) (f32x4.mul (local.get $ws0) (local.get $dx)))))
            (local.set $qf61 (f32x4.add (local.get $qf61) (f32x4.mul (f32x4.convert_i32x4_s (local.get $qa61)) (f32x4.mul (local.get $ws1) (local.get $dx)))))
            (local.set $qf62 (f32x4.add (local.get $qf62) (f32x4.mul (f32x4.convert_i32x4_s (local.get $qa62)) (f32x4.mul (local.get $ws2) (local.get $dx)))))
            (local.set $qf63 (f32x4.add (local.get $qf63) (f32x4.mul (f32x4.convert_i32x4_s (local.get $qa63)) (f32x4.mul (local.get $ws3) (local.get $dx)))))
            (local.set $ws0 (v128.and (i32x4.shl (v128.load16x4_s offset=0 (local.get $qw7)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
            (local.set $ws1 (v128.and (i32x4.shl (v128.load16x4_s offset=8 (local.get $qw7)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
            (local.set $ws2 (v128.and (i32x4.shl (v128.load16x4_s offset=16 (local.get $qw7)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
            (local.set $ws3 (v128.and (i32x4.shl (v128.load16x4_s offset=24 (local.get $qw7)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
            (if (local.get $fix) (then
              (local.set $ws0 (v128.or (local.get $ws0) (v128.and (i32x4.eq (v128.and (local.get $ws0) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
              (local.set $ws1 (v128.or (local.get $ws1) (v128.and (i32x4.eq (v128.and (local.get $ws1) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
              (local.set $ws2 (v128.or (local.get $ws2) (v128.and (i32x4.eq (v128.and (local.get $ws2) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
              (local.set $ws3 (v128.or (local.get $ws3) (v128.and (i32x4.eq (v128.and (local.get $ws3) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
            ))
            (if (local.get $q8)
              (then
              (local.set $qa71 (i32x4.sub (i32x4.sub (local.get $qa71) (i32x4.shl (local.get $qa70) (i32.const 8))) (local.get $s)))
              (local.set $qa73 (i32x4.sub (i32x4.sub (local.get $qa73) (i32x4.shl (local.get $qa72) (i32.const 8))) (local.get $s))))
              (else
              (local.set $qa70 (i32x4.sub (local.get $qa70) (local.get $s)))
              (local.set $qa71 (i32x4.sub (i32x4.shr_s (local.get $qa71) (i32.const 4)) (local.get $s)))
              (local.set $qa72 (i32x4.sub (i32x4.shr_s (local.get $qa72) (i32.const 8)) (local.get $s)))
              (local.set $qa73 (i32x4.sub (local.get $qa73) (local.get $s)))))
            (local.set $qf70 (f32x4.add (local.get $qf70) (f32x4.mul (f32x4.convert_i32x4_s (local.get $qa70)) (f32x4.mul (local.get $ws0) (local.get $dx)))))
            (local.set $qf71 (f32x4.add (local.get $qf71) (f32x4.mul (f32x4.convert_i32x4_s (local.get $qa71)) (f32x4.mul (local.get $ws1) (local.get $dx)))))
            (local.set $qf72 (f32x4.add (local.get $qf72) (f32x4.mul (f32x4.convert_i32x4_s (local.get $qa72)) (f32x4.mul (local.get $ws2) (local.get $dx)))))
            (local.set $qf73 (f32x4.add (local.get $qf73) (f32x4.mul (f32x4.convert_i32x4_s (local.get $qa73)) (f32x4.mul (local.get $ws3) (local.get $dx)))))
            (local.set $xd (i32.add (local.get $xd) (i32.const 8)))
            (local.set $qw0 (i32.add (local.get $qw0) (local.get $bb)))
            (local.set $qw1 (i32.add (local.get $qw1) (local.get $bb)))
            (local.set $qw2 (i32.add (local.get $qw2) (local.get $bb)))
            (local.set $qw3 (i32.add (local.get $qw3) (local.get $bb)))
            (local.set $qw4 (i32.add (local.get $qw4) (local.get $bb)))
            (local.set $qw5 (i32.add (local.get $qw5) (local.get $bb)))
            (local.set $qw6 (i32.add (local.get $qw6) (local.get $bb)))
            (local.set $qw7 (i32.add (local.get $qw7) (local.get $bb)))
            (local.set $b (i32.add (local.get $b) (i32.const 1)))
            (br_if $peb_next (i32.lt_u (local.get $b) (local.get $nb))))
          (local.set $bp (select (i32.add (local.get $bias) (i32.shl (local.get $p) (i32.const 6))) (i32.const 0) (local.get $bias)))
          (local.set $o (i32.add (local.get $out) (i32.shl (local.get $p) (i32.const 6))))
          (if (local.get $bp) (then
            (local.set $qf00 (f32x4.add (local.get $qf00) (v128.load offset=0 (local.get $bp))))
            (local.set $qf01 (f32x4.add (local.get $qf01) (v128.load offset=16 (local.get $bp))))
            (local.set $qf02 (f32x4.add (local.get $qf02) (v128.load offset=32 (local.get $bp))))
            (local.set $qf03 (f32x4.add (local.get $qf03) (v128.load offset=48 (local.get $bp))))
            (local.set $qf10 (f32x4.add (local.get $qf10) (v128.load offset=0 (i32.add (local.get $bp) (local.get $qo)))))
            (local.set $qf11 (f32x4.add (local.get $qf11) (v128.load offset=16 (i32.add (local.get $bp) (local.get $qo)))))
            (local.set $qf12 (f32x4.add (local.get $qf12) (v128.load offset=32 (i32.add (local.get $bp) (local.get $qo)))))
            (local.set $qf13 (f32x4.add (local.get $qf13) (v128.load offset=48 (i32.add (local.get $bp) (local.get $qo)))))
            (local.set $qf20 (f32x4.add (local.get $qf20) (v128.load offset=0 (i32.add (local.get $bp) (i32.mul (local.get $qo) (i32.const 2))))))
            (local.set $qf21 (f32x4.add (local.get $qf21) (v128.load offset=16 (i32.add (local.get $bp) (i32.mul (local.get $qo) (i32.const 2))))))
            (local.set $qf22 (f32x4.add (local.get $qf22) (v128.load offset=32 (i32.add (local.get $bp) (i32.mul (local.get $qo) (i32.const 2))))))
            (local.set $qf23 (f32x4.add (local.get $qf23) (v128.load offset=48 (i32.add (local.get $bp) (i32.mul (local.get $qo) (i32.const 2))))))
            (local.set $qf30 (f32x4.add (local.get $qf30) (v128.load offset=0 (i32.add (local.get $bp) (i32.mul (local.get $qo) (i32.const 3))))))
            (local.set $qf31 (f32x4.add (local.get $qf31) (v128.load offset=16 (i32.add (local.get $bp) (i32.mul (local.get $qo) (i32.const 3))))))
            (local.set $qf32 (f32x4.add (local.get $qf32) (v128.load offset=32 (i32.add (local.get $bp) (i32.mul (local.get $qo) (i32.const 3))))))
            (local.set $qf33 (f32x4.add (local.get $qf33) (v128.load offset=48 (i32.add (local.get $bp) (i32.mul (local.get $qo) (i32.const 3))))))
            (local.set $qf40 (f32x4.add (local.get $qf40) (v128.load offset=0 (i32.add (local.get $bp) (i32.mul (local.get $qo) (i32.const 4))))))
            (local.set $qf41 (f32x4.add (local.get $qf41) (v128.load offset=16 (i32.add (local.get $bp) (i32.mul (local.get $qo) (i32.const 4))))))
            (local.set $qf42 (f32x4.add (local.get $qf42) (v128.load offset=32 (i32.add (local.get $bp) (i32.mul (local.get $qo) (i32.const 4))))))
            (local.set $qf43 (f32x4.add (local.get $qf43) (v128.load offset=48 (i32.add (local.get $bp) (i32.mul (local.get $qo) (i32.const 4))))))
            (local.set $qf50 (f32x4.add (local.get $qf50) (v128.load offset=0 (i32.add (local.get $bp) (i32.mul (local.get $qo) (i32.const 5))))))
            (local.set $qf51 (f32x4.add (local.get $qf51) (v128.load offset=16 (i32.add (local.get $bp) (i32.mul (local.get $qo) (i32.const 5))))))
            (local.set $qf52 (f32x4.add (local.get $qf52) (v128.load offset=32 (i32.add (local.get $bp) (i32.mul (local.get $qo) (i32.const 5))))))
            (local.set $qf53 (f32x4.add (local.get $qf53) (v128.load offset=48 (i32.add (local.get $bp) (i32.mul (local.get $qo) (i32.const 5))))))
            (local.set $qf60 (f32x4.add (local.get $qf60) (v128.load offset=0 (i32.add (local.get $bp) (i32.mul (local.get $qo) (i32.const 6))))))
            (local.set $qf61 (f32x4.add (local.get $qf61) (v128.load offset=16 (i32.add (local.get $bp) (i32.mul (local.get $qo) (i32.const 6))))))
            (local.set $qf62 (f32x4.add (local.get $qf62) (v128.load offset=32 (i32.add (local.get $bp) (i32.mul (local.get $qo) (i32.const 6))))))
            (local.set $qf63 (f32x4.add (local.get $qf63) (v128.load offset=48 (i32.add (local.get $bp) (i32.mul (local.get $qo) (i32.const 6))))))
            (local.set $qf70 (f32x4.add (local.get $qf70) (v128.load offset=0 (i32.add (local.get $bp) (i32.mul (local.get $qo) (i32.const 7))))))
            (local.set $qf71 (f32x4.add (local.get $qf71) (v128.load offset=16 (i32.add (local.get $bp) (i32.mul (local.get $qo) (i32.const 7))))))
            (local.set $qf72 (f32x4.add (local.get $qf72) (v128.load offset=32 (i32.add (local.get $bp) (i32.mul (local.get $qo) (i32.const 7))))))
            (local.set $qf73 (f32x4.add (local.get $qf73) (v128.load offset=48 (i32.add (local.get $bp) (i32.mul (local.get $qo) (i32.const 7))))))
          ))
          (if (local.get $relu) (then
            (local.set $qf00 (v128.andnot (local.get $qf00) (f32x4.lt (local.get $qf00) (v128.const i32x4 0 0 0 0))))
            (local.set $qf01 (v128.andnot (local.get $qf01) (f32x4.lt (local.get $qf01) (v128.const i32x4 0 0 0 0))))
            (local.set $qf02 (v128.andnot (local.get $qf02) (f32x4.lt (local.get $qf02) (v128.const i32x4 0 0 0 0))))
            (local.set $qf03 (v128.andnot (local.get $qf03) (f32x4.lt (local.get $qf03) (v128.const i32x4 0 0 0 0))))
            (local.set $qf10 (v128.andnot (local.get $qf10) (f32x4.lt (local.get $qf10) (v128.const i32x4 0 0 0 0))))
            (local.set $qf11 (v128.andnot (local.get $qf11) (f32x4.lt (local.get $qf11) (v128.const i32x4 0 0 0 0))))
            (local.set $qf12 (v128.andnot (local.get $qf12) (f32x4.lt (local.get $qf12) (v128.const i32x4 0 0 0 0))))
            (local.set $qf13 (v128.andnot (local.get $qf13) (f32x4.lt (local.get $qf13) (v128.const i32x4 0 0 0 0))))
            (local.set $qf20 (v128.andnot (local.get $qf20) (f32x4.lt (local.get $qf20) (v128.const i32x4 0 0 0 0))))
            (local.set $qf21 (v128.andnot (local.get $qf21) (f32x4.lt (local.get $qf21) (v128.const i32x4 0 0 0 0))))
            (local.set $qf22 (v128.andnot (local.get $qf22) (f32x4.lt (local.get $qf22) (v128.const i32x4 0 0 0 0))))
            (local.set $qf23 (v128.andnot (local.get $qf23) (f32x4.lt (local.get $qf23) (v128.const i32x4 0 0 0 0))))
            (local.set $qf30 (v128.andnot (local.get $qf30) (f32x4.lt (local.get $qf30) (v128.const i32x4 0 0 0 0))))
            (local.set $qf31 (v128.andnot (local.get $qf31) (f32x4.lt (local.get $qf31) (v128.const i32x4 0 0 0 0))))
            (local.set $qf32 (v128.andnot (local.get $qf32) (f32x4.lt (local.get $qf32) (v128.const i32x4 0 0 0 0))))
            (local.set $qf33 (v128.andnot (local.get $qf33) (f32x4.lt (local.get $qf33) (v128.const i32x4 0 0 0 0))))
            (local.set $qf40 (v128.andnot (local.get $qf40) (f32x4.lt (local.get $qf40) (v128.const i32x4 0 0 0 0))))
            (local.set $qf41 (v128.andnot (local.get $qf41) (f32x4.lt (local.get $qf41) (v128.const i32x4 0 0 0 0))))
            (local.set $qf42 (v128.andnot (local.get $qf42) (f32x4.lt (local.get $qf42) (v128.const i32x4 0 0 0 0))))
            (local.set $qf43 (v128.andnot (local.get $qf43) (f32x4.lt (local.get $qf43) (v128.const i32x4 0 0 0 0))))
            (local.set $qf50 (v128.andnot (local.get $qf50) (f32x4.lt (local.get $qf50) (v128.const i32x4 0 0 0 0))))
            (local.set $qf51 (v128.andnot (local.get $qf51) (f32x4.lt (local.get $qf51) (v128.const i32x4 0 0 0 0))))
            (local.set $qf52 (v128.andnot (local.get $qf52) (f32x4.lt (local.get $qf52) (v128.const i32x4 0 0 0 0))))
            (local.set $qf53 (v128.andnot (local.get $qf53) (f32x4.lt (local.get $qf53) (v128.const i32x4 0 0 0 0))))
            (local.set $qf60 (v128.andnot (local.get $qf60) (f32x4.lt (local.get $qf60) (v128.const i32x4 0 0 0 0))))
            (local.set $qf61 (v128.andnot (local.get $qf61) (f32x4.lt (local.get $qf61) (v128.const i32x4 0 0 0 0))))
            (local.set $qf62 (v128.andnot (local.get $qf62) (f32x4.lt (local.get $qf62) (v128.const i32x4 0 0 0 0))))
            (local.set $qf63 (v128.andnot (local.get $qf63) (f32x4.lt (local.get $qf63) (v128.const i32x4 0 0 0 0))))
            (local.set $qf70 (v128.andnot (local.get $qf70) (f32x4.lt (local.get $qf70) (v128.const i32x4 0 0 0 0))))
            (local.set $qf71 (v128.andnot (local.get $qf71) (f32x4.lt (local.get $qf71) (v128.const i32x4 0 0 0 0))))
            (local.set $qf72 (v128.andnot (local.get $qf72) (f32x4.lt (local.get $qf72) (v128.const i32x4 0 0 0 0))))
            (local.set $qf73 (v128.andnot (local.get $qf73) (f32x4.lt (local.get $qf73) (v128.const i32x4 0 0 0 0))))
          ))
          (v128.store offset=0 (local.get $o) (local.get $qf00))
          (v128.store offset=16 (local.get $o) (local.get $qf01))
          (v128.store offset=32 (local.get $o) (local.get $qf02))
          (v128.store offset=48 (local.get $o) (local.get $qf03))
          (v128.store offset=0 (i32.add (local.get $o) (local.get $qo)) (local.get $qf10))
          (v128.store offset=16 (i32.add (local.get $o) (local.get $qo)) (local.get $qf11))
          (v128.store offset=32 (i32.add (local.get $o) (local.get $qo)) (local.get $qf12))
          (v128.store offset=48 (i32.add (local.get $o) (local.get $qo)) (local.get $qf13))
          (v128.store offset=0 (i32.add (local.get $o) (i32.mul (local.get $qo) (i32.const 2))) (local.get $qf20))
          (v128.store offset=16 (i32.add (local.get $o) (i32.mul (local.get $qo) (i32.const 2))) (local.get $qf21))
          (v128.store offset=32 (i32.add (local.get $o) (i32.mul (local.get $qo) (i32.const 2))) (local.get $qf22))
          (v128.store offset=48 (i32.add (local.get $o) (i32.mul (local.get $qo) (i32.const 2))) (local.get $qf23))
          (v128.store offset=0 (i32.add (local.get $o) (i32.mul (local.get $qo) (i32.const 3))) (local.get $qf30))
          (v128.store offset=16 (i32.add (local.get $o) (i32.mul (local.get $qo) (i32.const 3))) (local.get $qf31))
          (v128.store offset=32 (i32.add (local.get $o) (i32.mul (local.get $qo) (i32.const 3))) (local.get $qf32))
          (v128.store offset=48 (i32.add (local.get $o) (i32.mul (local.get $qo) (i32.const 3))) (local.get $qf33))
          (v128.store offset=0 (i32.add (local.get $o) (i32.mul (local.get $qo) (i32.const 4))) (local.get $qf40))
          (v128.store offset=16 (i32.add (local.get $o) (i32.mul (local.get $qo) (i32.const 4))) (local.get $qf41))
          (v128.store offset=32 (i32.add (local.get $o) (i32.mul (local.get $qo) (i32.const 4))) (local.get $qf42))
          (v128.store offset=48 (i32.add (local.get $o) (i32.mul (local.get $qo) (i32.const 4))) (local.get $qf43))
          (v128.store offset=0 (i32.add (local.get $o) (i32.mul (local.get $qo) (i32.const 5))) (local.get $qf50))
          (v128.store offset=16 (i32.add (local.get $o) (i32.mul (local.get $qo) (i32.const 5))) (local.get $qf51))
          (v128.store offset=32 (i32.add (local.get $o) (i32.mul (local.get $qo) (i32.const 5))) (local.get $qf52))
          (v128.store offset=48 (i32.add (local.get $o) (i32.mul (local.get $qo) (i32.const 5))) (local.get $qf53))
          (v128.store offset=0 (i32.add (local.get $o) (i32.mul (local.get $qo) (i32.const 6))) (local.get $qf60))
          (v128.store offset=16 (i32.add (local.get $o) (i32.mul (local.get $qo) (i32.const 6))) (local.get $qf61))
          (v128.store offset=32 (i32.add (local.get $o) (i32.mul (local.get $qo) (i32.const 6))) (local.get $qf62))
          (v128.store offset=48 (i32.add (local.get $o) (i32.mul (local.get $qo) (i32.const 6))) (local.get $qf63))
          (v128.store offset=0 (i32.add (local.get $o) (i32.mul (local.get $qo) (i32.const 7))) (local.get $qf70))
          (v128.store offset=16 (i32.add (local.get $o) (i32.mul (local.get $qo) (i32.const 7))) (local.get $qf71))
          (v128.store offset=32 (i32.add (local.get $o) (i32.mul (local.get $qo) (i32.const 7))) (local.get $qf72))
          (v128.store offset=48 (i32.add (local.get $o) (i32.mul (local.get $qo) (i32.const 7))) (local.get $qf73))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (br $pe_next)))
        (local.set $p0 (i32.add (local.get $p0) (i32.shl (i32.sub (local.get $qe) (local.get $p0)) (i32.const 3)))))
      (local.set $p (local.get $p0))
      (local.set $qe (i32.add (local.get $p0) (i32.shr_u (i32.sub (local.get $p1) (local.get $p0)) (i32.const 2))))
      (local.set $qs (i32.mul (i32.sub (local.get $qe) (local.get $p0)) (local.get $ldw)))
      (local.set $qo (i32.shl (i32.sub (local.get $qe) (local.get $p0)) (i32.const 6)))
      (block $pq_done
        (loop $pq_next
        (br_if $pq_done (i32.ge_u (local.get $p) (local.get $qe)))
        (local.set $xb (local.get $xq))
        (local.set $xd (i32.add (local.get $xq) (i32.shl (local.get $K) (i32.const 1))))
        (local.set $qw0 (i32.add (local.get $w) (i32.mul (local.get $p) (local.get $ldw))))
        (local.set $qw1 (i32.add (local.get $qw0) (local.get $qs)))
        (local.set $qw2 (i32.add (local.get $qw1) (local.get $qs)))
        (local.set $qw3 (i32.add (local.get $qw2) (local.get $qs)))
        (local.set $qf00 (v128.const i32x4 0 0 0 0))
        (local.set $qf01 (v128.const i32x4 0 0 0 0))
        (local.set $qf02 (v128.const i32x4 0 0 0 0))
        (local.set $qf03 (v128.const i32x4 0 0 0 0))
        (local.set $qf10 (v128.const i32x4 0 0 0 0))
        (local.set $qf11 (v128.const i32x4 0 0 0 0))
        (local.set $qf12 (v128.const i32x4 0 0 0 0))
        (local.set $qf13 (v128.const i32x4 0 0 0 0))
        (local.set $qf20 (v128.const i32x4 0 0 0 0))
        (local.set $qf21 (v128.const i32x4 0 0 0 0))
        (local.set $qf22 (v128.const i32x4 0 0 0 0))
        (local.set $qf23 (v128.const i32x4 0 0 0 0))
        (local.set $qf30 (v128.const i32x4 0 0 0 0))
        (local.set $qf31 (v128.const i32x4 0 0 0 0))
        (local.set $qf32 (v128.const i32x4 0 0 0 0))
        (local.set $qf33 (v128.const i32x4 0 0 0 0))
        (local.set $b (i32.const 0))
        (loop $pqb_next
          (local.set $qa00 (v128.const i32x4 0 0 0 0))
          (local.set $qa01 (v128.const i32x4 0 0 0 0))
          (local.set $qa02 (v128.const i32x4 0 0 0 0))
          (local.set $qa03 (v128.const i32x4 0 0 0 0))
          (local.set $qa10 (v128.const i32x4 0 0 0 0))
          (local.set $qa11 (v128.const i32x4 0 0 0 0))
          (local.set $qa12 (v128.const i32x4 0 0 0 0))
          (local.set $qa13 (v128.const i32x4 0 0 0 0))
          (local.set $qa20 (v128.const i32x4 0 0 0 0))
          (local.set $qa21 (v128.const i32x4 0 0 0 0))
          (local.set $qa22 (v128.const i32x4 0 0 0 0))
          (local.set $qa23 (v128.const i32x4 0 0 0 0))
          (local.set $qa30 (v128.const i32x4 0 0 0 0))
          (local.set $qa31 (v128.const i32x4 0 0 0 0))
          (local.set $qa32 (v128.const i32x4 0 0 0 0))
          (local.set $qa33 (v128.const i32x4 0 0 0 0))
          (local.set $qt0 (i32.add (local.get $qw0) (i32.const 32)))
          (local.set $qt1 (i32.add (local.get $qw1) (i32.const 32)))
          (local.set $qt2 (i32.add (local.get $qw2) (i32.const 32)))
          (local.set $qt3 (i32.add (local.get $qw3) (i32.const 32)))
          (local.set $tend (i32.add (local.get $qw0) (local.get $bb)))
          (if (local.get $q8)
            (then
              (loop $pq8
              (local.set $t (i32.add (local.get $qt0) (i32.const 128)))
              (loop $pq8a
              (local.set $xs (v128.load32_splat offset=0 (local.get $xb)))
              (local.set $v (v128.load offset=0 (local.get $qt0)))
              (local.set $qa00 (i32x4.add (local.get $qa00) (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $v) (i32.const 8)) (local.get $xs))))
              (local.set $qa01 (i32x4.add (local.get $qa01) (i32x4.dot_i16x8_s (local.get $v) (local.get $xs))))
              (local.set $v (v128.load offset=16 (local.get $qt0)))
              (local.set $qa02 (i32x4.add (local.get $qa02) (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $v) (i32.const 8)) (local.get $xs))))
              (local.set $qa03 (i32x4.add (local.get $qa03) (i32x4.dot_i16x8_s (local.get $v) (local.get $xs))))
              (local.set $v (v128.load offset=0 (local.get $qt1)))
              (local.set $qa10 (i32x4.add (local.get $qa10) (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $v) (i32.const 8)) (local.get $xs))))
              (local.set $qa11 (i32x4.add (local.get $qa11) (i32x4.dot_i16x8_s (local.get $v) (local.get $xs))))
              (local.set $v (v128.load offset=16 (local.get $qt1)))
              (local.set $qa12 (i32x4.add (local.get $qa12) (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $v) (i32.const 8)) (local.get $xs))))
              (local.set $qa13 (i32x4.add (local.get $qa13) (i32x4.dot_i16x8_s (local.get $v) (local.get $xs))))
              (local.set $xb (i32.add (local.get $xb) (i32.const 4)))
              (local.set $qt0 (i32.add (local.get $qt0) (i32.const 32)))
              (local.set $qt1 (i32.add (local.get $qt1) (i32.const 32)))
              (br_if $pq8a (i32.lt_u (local.get $qt0) (local.get $t))))
              (local.set $xb (i32.sub (local.get $xb) (i32.const 16)))
              (local.set $t (i32.add (local.get $qt2) (i32.const 128)))
              (loop $pq8b
              (local.set $xs (v128.load32_splat offset=0 (local.get $xb)))
              (local.set $v (v128.load offset=0 (local.get $qt2)))
              (local.set $qa20 (i32x4.add (local.get $qa20) (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $v) (i32.const 8)) (local.get $xs))))
              (local.set $qa21 (i32x4.add (local.get $qa21) (i32x4.dot_i16x8_s (local.get $v) (local.get $xs))))
              (local.set $v (v128.load offset=16 (local.get $qt2)))
              (local.set $qa22 (i32x4.add (local.get $qa22) (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $v) (i32.const 8)) (local.get $xs))))
              (local.set $qa23 (i32x4.add (local.get $qa23) (i32x4.dot_i16x8_s (local.get $v) (local.get $xs))))
              (local.set $v (v128.load offset=0 (local.get $qt3)))
              (local.set $qa30 (i32x4.add (local.get $qa30) (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $v) (i32.const 8)) (local.get $xs))))
              (local.set $qa31 (i32x4.add (local.get $qa31) (i32x4.dot_i16x8_s (local.get $v) (local.get $xs))))
              (local.set $v (v128.load offset=16 (local.get $qt3)))
              (local.set $qa32 (i32x4.add (local.get $qa32) (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $v) (i32.const 8)) (local.get $xs))))
              (local.set $qa33 (i32x4.add (local.get $qa33) (i32x4.dot_i16x8_s (local.get $v) (local.get $xs))))
              (local.set $xb (i32.add (local.get $xb) (i32.const 4)))
              (local.set $qt2 (i32.add (local.get $qt2) (i32.const 32)))
              (local.set $qt3 (i32.add (local.get $qt3) (i32.const 32)))
              (br_if $pq8b (i32.lt_u (local.get $qt2) (local.get $t))))
              (br_if $pq8 (i32.lt_u (local.get $qt0) (local.get $tend)))))
            (else
              (loop $pq4
              (local.set $xs (v128.load32_splat offset=0 (local.get $xb)))
              (local.set $v (v128.load offset=0 (local.get $qt0)))
              (local.set $qa00 (i32x4.add (local.get $qa00) (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m0)) (local.get $xs))))
              (local.set $qa01 (i32x4.add (local.get $qa01) (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m1)) (local.get $xs))))
              (local.set $qa02 (i32x4.add (local.get $qa02) (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m2)) (local.get $xs))))
              (local.set $qa03 (i32x4.add (local.get $qa03) (i32x4.dot_i16x8_s (i16x8.shr_u (local.get $v) (i32.const 12)) (local.get $xs))))
              (local.set $v (v128.load offset=0 (local.get $qt1)))
              (local.set $qa10 (i32x4.add (local.get $qa10) (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m0)) (local.get $xs))))
              (local.set $qa11 (i32x4.add (local.get $qa11) (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m1)) (local.get $xs))))
              (local.set $qa12 (i32x4.add (local.get $qa12) (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m2)) (local.get $xs))))
              (local.set $qa13 (i32x4.add (local.get $qa13) (i32x4.dot_i16x8_s (i16x8.shr_u (local.get $v) (i32.const 12)) (local.get $xs))))
              (local.set $v (v128.load offset=0 (local.get $qt2)))
              (local.set $qa20 (i32x4.add (local.get $qa20) (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m0)) (local.get $xs))))
              (local.set $qa21 (i32x4.add (local.get $qa21) (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m1)) (local.get $xs))))
              (local.set $qa22 (i32x4.add (local.get $qa22) (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m2)) (local.get $xs))))
              (local.set $qa23 (i32x4.add (local.get $qa23) (i32x4.dot_i16x8_s (i16x8.shr_u (local.get $v) (i32.const 12)) (local.get $xs))))
              (local.set $v (v128.load offset=0 (local.get $qt3)))
              (local.set $qa30 (i32x4.add (local.get $qa30) (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m0)) (local.get $xs))))
              (local.set $qa31 (i32x4.add (local.get $qa31) (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m1)) (local.get $xs))))
              (local.set $qa32 (i32x4.add (local.get $qa32) (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m2)) (local.get $xs))))
              (local.set $qa33 (i32x4.add (local.get $qa33) (i32x4.dot_i16x8_s (i16x8.shr_u (local.get $v) (i32.const 12)) (local.get $xs))))
              (local.set $xb (i32.add (local.get $xb) (i32.const 4)))
              (local.set $qt0 (i32.add (local.get $qt0) (i32.const 16)))
              (local.set $qt1 (i32.add (local.get $qt1) (i32.const 16)))
              (local.set $qt2 (i32.add (local.get $qt2) (i32.const 16)))
              (local.set $qt3 (i32.add (local.get $qt3) (i32.const 16)))
              (br_if $pq4 (i32.lt_u (local.get $qt0) (local.get $tend))))))
          (local.set $dx (v128.load32_splat (local.get $xd)))
          (local.set $s (v128.load32_splat offset=4 (local.get $xd)))
          (if (local.get $q8) (then (local.set $s (i32x4.shl (local.get $s) (i32.const 4)))))
          (local.set $ws0 (v128.and (i32x4.shl (v128.load16x4_s offset=0 (local.get $qw0)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
          (local.set $ws1 (v128.and (i32x4.shl (v128.load16x4_s offset=8 (local.get $qw0)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
          (local.set $ws2 (v128.and (i32x4.shl (v128.load16x4_s offset=16 (local.get $qw0)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
          (local.set $ws3 (v128.and (i32x4.shl (v128.load16x4_s offset=24 (local.get $qw0)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
          (if (local.get $fix) (then
            (local.set $ws0 (v128.or (local.get $ws0) (v128.and (i32x4.eq (v128.and (local.get $ws0) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
            (local.set $ws1 (v128.or (local.get $ws1) (v128.and (i32x4.eq (v128.and (local.get $ws1) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
            (local.set $ws2 (v128.or (local.get $ws2) (v128.and (i32x4.eq (v128.and (local.get $ws2) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
            (local.set $ws3 (v128.or (local.get $ws3) (v128.and (i32x4.eq (v128.and (local.get $ws3) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
          ))
          (if (local.get $q8)
            (then
              (local.set $qa01 (i32x4.sub (i32x4.sub (local.get $qa01) (i32x4.shl (local.get $qa00) (i32.const 8))) (local.get $s)))
              (local.set $qa03 (i32x4.sub (i32x4.sub (local.get $qa03) (i32x4.shl (local.get $qa02) (i32.const 8))) (local.get $s))))
            (else
              (local.set $qa00 (i32x4.sub (local.get $qa00) (local.get $s)))
              (local.set $qa01 (i32x4.sub (i32x4.shr_s (local.get $qa01) (i32.const 4)) (local.get $s)))
              (local.set $qa02 (i32x4.sub (i32x4.shr_s (local.get $qa02) (i32.const 8)) (local.get $s)))
              (local.set $qa03 (i32x4.sub (local.get $qa03) (local.get $s)))))
          (local.set $qf00 (f32x4.add (local.get $qf00) (f32x4.mul (f32x4.convert_i32x4_s (local.get $qa00)) (f32x4.mul (local.get $ws0) (local.get $dx)))))
          (local.set $qf01 (f32x4.add (local.get $qf01) (f32x4.mul (f32x4.convert_i32x4_s (local.get $qa01)) (f32x4.mul (local.get $ws1) (local.get $dx)))))
          (local.set $qf02 (f32x4.add (local.get $qf02) (f32x4.mul (f32x4.convert_i32x4_s (local.get $qa02)) (f32x4.mul (local.get $ws2) (local.get $dx)))))
          (local.set $qf03 (f32x4.add (local.get $qf03) (f32x4.mul (f32x4.convert_i32x4_s (local.get $qa03)) (f32x4.mul (local.get $ws3) (local.get $dx)))))
          (local.set $ws0 (v128.and (i32x4.shl (v128.load16x4_s offset=0 (local.get $qw1)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
          (local.set $ws1 (v128.and (i32x4.shl (v128.load16x4_s offset=8 (local.get $qw1)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
          (local.set $ws2 (v128.and (i32x4.shl (v128.load16x4_s offset=16 (local.get $qw1)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
          (local.set $ws3 (v128.and (i32x4.shl (v128.load16x4_s offset=24 (local.get $qw1)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
          (if (local.get $fix) (then
            (local.set $ws0 (v128.or (local.get $ws0) (v128.and (i32x4.eq (v128.and (local.get $ws0) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
            (local.set $ws1 (v128.or (local.get $ws1) (v128.and (i32x4.eq (v128.and (local.get $ws1) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
            (local.set $ws2 (v128.or (local.get $ws2) (v128.and (i32x4.eq (v128.and (local.get $ws2) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
            (local.set $ws3 (v128.or (local.get $ws3) (v128.and (i32x4.eq (v128.and (local.get $ws3) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
          ))
          (if (local.get $q8)
            (then
              (local.set $qa11 (i32x4.sub (i32x4.sub (local.get $qa11) (i32x4.shl (local.get $qa10) (i32.const 8))) (local.get $s)))
              (local.set $qa13 (i32x4.sub (i32x4.sub (local.get $qa13) (i32x4.shl (local.get $qa12) (i32.const 8))) (local.get $s))))
            (else
              (local.set $qa10 (i32x4.sub (local.get $qa10) (local.get $s)))
              (local.set $qa11 (i32x4.sub (i32x4.shr_s (local.get $qa11) (i32.const 4)) (local.get $s)))
              (local.set $qa12 (i32x4.sub (i32x4.shr_s (local.get $qa12) (i32.const 8)) (local.get $s)))
              (local.set $qa13 (i32x4.sub (local.get $qa13) (local.get $s)))))
          (local.set $qf10 (f32x4.add (local.get $qf10) (f32x4.mul (f32x4.convert_i32x4_s (local.get $qa10)) (f32x4.mul (local.get $ws0) (local.get $dx)))))
          (local.set $qf11 (f32x4.add (local.get $qf11) (f32x4.mul (f32x4.convert_i32x4_s (local.get $qa11)) (f32x4.mul (local.get $ws1) (local.get $dx)))))
          (local.set $qf12 (f32x4.add (local.get $qf12) (f32x4.mul (f32x4.convert_i32x4_s (local.get $qa12)) (f32x4.mul (local.get $ws2) (local.get $dx)))))
          (local.set $qf13 (f32x4.add (local.get $qf13) (f32x4.mul (f32x4.convert_i32x4_s (local.get $qa13)) (f32x4.mul (local.get $ws3) (local.get $dx)))))
          (local.set $ws0 (v128.and (i32x4.shl (v128.load16x4_s offset=0 (local.get $qw2)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
          (local.set $ws1 (v128.and (i32x4.shl (v128.load16x4_s offset=8 (local.get $qw2)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
          (local.set $ws2 (v128.and (i32x4.shl (v128.load16x4_s offset=16 (local.get $qw2)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
          (local.set $ws3 (v128.and (i32x4.shl (v128.load16x4_s offset=24 (local.get $qw2)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
          (if (local.get $fix) (then
            (local.set $ws0 (v128.or (local.get $ws0) (v128.and (i32x4.eq (v128.and (local.get $ws0) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
            (local.set $ws1 (v128.or (local.get $ws1) (v128.and (i32x4.eq (v128.and (local.get $ws1) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
            (local.set $ws2 (v128.or (local.get $ws2) (v128.and (i32x4.eq (v128.and (local.get $ws2) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
            (local.set $ws3 (v128.or (local.get $ws3) (v128.and (i32x4.eq (v128.and (local.get $ws3) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
          ))
          (if (local.get $q8)
            (then
              (local.set $qa21 (i32x4.sub (i32x4.sub (local.get $qa21) (i32x4.shl (local.get $qa20) (i32.const 8))) (local.get $s)))
              (local.set $qa23 (i32x4.sub (i32x4.sub (local.get $qa23) (i32x4.shl (local.get $qa22) (i32.const 8))) (local.get $s))))
            (else
              (local.set $qa20 (i32x4.sub (local.get $qa20) (local.get $s)))
              (local.set $qa21 (i32x4.sub (i32x4.shr_s (local.get $qa21) (i32.const 4)) (local.get $s)))
              (local.set $qa22 (i32x4.sub (i32x4.shr_s (local.get $qa22) (i32.const 8)) (local.get $s)))
              (local.set $qa23 (i32x4.sub (local.get $qa23) (local.get $s)))))
          (local.set $qf20 (f32x4.add (local.get $qf20) (f32x4.mul (f32x4.convert_i32x4_s (local.get $qa20)) (f32x4.mul (local.get $ws0) (local.get $dx)))))
          (local.set $qf21 (f32x4.add (local.get $qf21) (f32x4.mul (f32x4.convert_i32x4_s (local.get $qa21)) (f32x4.mul (local.get $ws1) (local.get $dx)))))
          (local.set $qf22 (f32x4.add (local.get $qf22) (f32x4.mul (f32x4.convert_i32x4_s (local.get $qa22)) (f32x4.mul (local.get $ws2) (local.get $dx)))))
          (local.set $qf23 (f32x4.add (local.get $qf23) (f32x4.mul (f32x4.convert_i32x4_s (local.get $qa23)) (f32x4.mul (local.get $ws3) (local.get $dx)))))
          (local.set $ws0 (v128.and (i32x4.shl (v128.load16x4_s offset=0 (local.get $qw3)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
          (local.set $ws1 (v128.and (i32x4.shl (v128.load16x4_s offset=8 (local.get $qw3)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
          (local.set $ws2 (v128.and (i32x4.shl (v128.load16x4_s offset=16 (local.get $qw3)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
          (local.set $ws3 (v128.and (i32x4.shl (v128.load16x4_s offset=24 (local.get $qw3)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
          (if (local.get $fix) (then
            (local.set $ws0 (v128.or (local.get $ws0) (v128.and (i32x4.eq (v128.and (local.get $ws0) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
            (local.set $ws1 (v128.or (local.get $ws1) (v128.and (i32x4.eq (v128.and (local.get $ws1) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
            (local.set $ws2 (v128.or (local.get $ws2) (v128.and (i32x4.eq (v128.and (local.get $ws2) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
            (local.set $ws3 (v128.or (local.get $ws3) (v128.and (i32x4.eq (v128.and (local.get $ws3) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
          ))
          (if (local.get $q8)
            (then
              (local.set $qa31 (i32x4.sub (i32x4.sub (local.get $qa31) (i32x4.shl (local.get $qa30) (i32.const 8))) (local.get $s)))
              (local.set $qa33 (i32x4.sub (i32x4.sub (local.get $qa33) (i32x4.shl (local.get $qa32) (i32.const 8))) (local.get $s))))
            (else
              (local.set $qa30 (i32x4.sub (local.get $qa30) (local.get $s)))
              (local.set $qa31 (i32x4.sub (i32x4.shr_s (local.get $qa31) (i32.const 4)) (local.get $s)))
              (local.set $qa32 (i32x4.sub (i32x4.shr_s (local.get $qa32) (i32.const 8)) (local.get $s)))
              (local.set $qa33 (i32x4.sub (local.get $qa33) (local.get $s)))))
          (local.set $qf30 (f32x4.add (local.get $qf30) (f32x4.mul (f32x4.convert_i32x4_s (local.get $qa30)) (f32x4.mul (local.get $ws0) (local.get $dx)))))
          (local.set $qf31 (f32x4.add (local.get $qf31) (f32x4.mul (f32x4.convert_i32x4_s (local.get $qa31)) (f32x4.mul (local.get $ws1) (local.get $dx)))))
          (local.set $qf32 (f32x4.add (local.get $qf32) (f32x4.mul (f32x4.convert_i32x4_s (local.get $qa32)) (f32x4.mul (local.get $ws2) (local.get $dx)))))
          (local.set $qf33 (f32x4.add (local.get $qf33) (f32x4.mul (f32x4.convert_i32x4_s (local.get $qa33)) (f32x4.mul (local.get $ws3) (local.get $dx)))))
          (local.set $xd (i32.add (local.get $xd) (i32.const 8)))
          (local.set $qw0 (i32.add (local.get $qw0) (local.get $bb)))
          (local.set $qw1 (i32.add (local.get $qw1) (local.get $bb)))
          (local.set $qw2 (i32.add (local.get $qw2) (local.get $bb)))
          (local.set $qw3 (i32.add (local.get $qw3) (local.get $bb)))
          (local.set $b (i32.add (local.get $b) (i32.const 1)))
          (br_if $pqb_next (i32.lt_u (local.get $b) (local.get $nb))))
        (local.set $bp (select (i32.add (local.get $bias) (i32.shl (local.get $p) (i32.const 6))) (i32.const 0) (local.get $bias)))
        (local.set $o (i32.add (local.get $out) (i32.shl (local.get $p) (i32.const 6))))
        (if (local.get $bp) (then
          (local.set $qf00 (f32x4.add (local.get $qf00) (v128.load offset=0 (local.get $bp))))
          (local.set $qf01 (f32x4.add (local.get $qf01) (v128.load offset=16 (local.get $bp))))
          (local.set $qf02 (f32x4.add (local.get $qf02) (v128.load offset=32 (local.get $bp))))
          (local.set $qf03 (f32x4.add (local.get $qf03) (v128.load offset=48 (local.get $bp))))
          (local.set $qf10 (f32x4.add (local.get $qf10) (v128.load offset=0 (i32.add (local.get $bp) (local.get $qo)))))
          (local.set $qf11 (f32x4.add (local.get $qf11) (v128.load offset=16 (i32.add (local.get $bp) (local.get $qo)))))
          (local.set $qf12 (f32x4.add (local.get $qf12) (v128.load offset=32 (i32.add (local.get $bp) (local.get $qo)))))
          (local.set $qf13 (f32x4.add (local.get $qf13) (v128.load offset=48 (i32.add (local.get $bp) (local.get $qo)))))
          (local.set $qf20 (f32x4.add (local.get $qf20) (v128.load offset=0 (i32.add (local.get $bp) (i32.mul (local.get $qo) (i32.const 2))))))
          (local.set $qf21 (f32x4.add (local.get $qf21) (v128.load offset=16 (i32.add (local.get $bp) (i32.mul (local.get $qo) (i32.const 2))))))
          (local.set $qf22 (f32x4.add (local.get $qf22) (v128.load offset=32 (i32.add (local.get $bp) (i32.mul (local.get $qo) (i32.const 2))))))
          (local.set $qf23 (f32x4.add (local.get $qf23) (v128.load offset=48 (i32.add (local.get $bp) (i32.mul (local.get $qo) (i32.const 2))))))
          (local.set $qf30 (f32x4.add (local.get $qf30) (v128.load offset=0 (i32.add (local.get $bp) (i32.mul (local.get $qo) (i32.const 3))))))
          (local.set $qf31 (f32x4.add (local.get $qf31) (v128.load offset=16 (i32.add (local.get $bp) (i32.mul (local.get $qo) (i32.const 3))))))
          (local.set $qf32 (f32x4.add (local.get $qf32) (v128.load offset=32 (i32.add (local.get $bp) (i32.mul (local.get $qo) (i32.const 3))))))
          (local.set $qf33 (f32x4.add (local.get $qf33) (v128.load offset=48 (i32.add (local.get $bp) (i32.mul (local.get $qo) (i32.const 3))))))
        ))
        (if (local.get $relu) (then
          (local.set $qf00 (v128.andnot (local.get $qf00) (f32x4.lt (local.get $qf00) (v128.const i32x4 0 0 0 0))))
          (local.set $qf01 (v128.andnot (local.get $qf01) (f32x4.lt (local.get $qf01) (v128.const i32x4 0 0 0 0))))
          (local.set $qf02 (v128.andnot (local.get $qf02) (f32x4.lt (local.get $qf02) (v128.const i32x4 0 0 0 0))))
          (local.set $qf03 (v128.andnot (local.get $qf03) (f32x4.lt (local.get $qf03) (v128.const i32x4 0 0 0 0))))
          (local.set $qf10 (v128.andnot (local.get $qf10) (f32x4.lt (local.get $qf10) (v128.const i32x4 0 0 0 0))))
          (local.set $qf11 (v128.andnot (local.get $qf11) (f32x4.lt (local.get $qf11) (v128.const i32x4 0 0 0 0))))
          (local.set $qf12 (v128.andnot (local.get $qf12) (f32x4.lt (local.get $qf12) (v128.const i32x4 0 0 0 0))))
          (local.set $qf13 (v128.andnot (local.get $qf13) (f32x4.lt (local.get $qf13) (v128.const i32x4 0 0 0 0))))
          (local.set $qf20 (v128.andnot (local.get $qf20) (f32x4.lt (local.get $qf20) (v128.const i32x4 0 0 0 0))))
          (local.set $qf21 (v128.andnot (local.get $qf21) (f32x4.lt (local.get $qf21) (v128.const i32x4 0 0 0 0))))
          (local.set $qf22 (v128.andnot (local.get $qf22) (f32x4.lt (local.get $qf22) (v128.const i32x4 0 0 0 0))))
          (local.set $qf23 (v128.andnot (local.get $qf23) (f32x4.lt (local.get $qf23) (v128.const i32x4 0 0 0 0))))
          (local.set $qf30 (v128.andnot (local.get $qf30) (f32x4.lt (local.get $qf30) (v128.const i32x4 0 0 0 0))))
          (local.set $qf31 (v128.andnot (local.get $qf31) (f32x4.lt (local.get $qf31) (v128.const i32x4 0 0 0 0))))
          (local.set $qf32 (v128.andnot (local.get $qf32) (f32x4.lt (local.get $qf32) (v128.const i32x4 0 0 0 0))))
          (local.set $qf33 (v128.andnot (local.get $qf33) (f32x4.lt (local.get $qf33) (v128.const i32x4 0 0 0 0))))
        ))
        (v128.store offset=0 (local.get $o) (local.get $qf00))
        (v128.store offset=16 (local.get $o) (local.get $qf01))
        (v128.store offset=32 (local.get $o) (local.get $qf02))
        (v128.store offset=48 (local.get $o) (local.get $qf03))
        (v128.store offset=0 (i32.add (local.get $o) (local.get $qo)) (local.get $qf10))
        (v128.store offset=16 (i32.add (local.get $o) (local.get $qo)) (local.get $qf11))
        (v128.store offset=32 (i32.add (local.get $o) (local.get $qo)) (local.get $qf12))
        (v128.store offset=48 (i32.add (local.get $o) (local.get $qo)) (local.get $qf13))
        (v128.store offset=0 (i32.add (local.get $o) (i32.mul (local.get $qo) (i32.const 2))) (local.get $qf20))
        (v128.store offset=16 (i32.add (local.get $o) (i32.mul (local.get $qo) (i32.const 2))) (local.get $qf21))
        (v128.store offset=32 (i32.add (local.get $o) (i32.mul (local.get $qo) (i32.const 2))) (local.get $qf22))
        (v128.store offset=48 (i32.add (local.get $o) (i32.mul (local.get $qo) (i32.const 2))) (local.get $qf23))
        (v128.store offset=0 (i32.add (local.get $o) (i32.mul (local.get $qo) (i32.const 3))) (local.get $qf30))
        (v128.store offset=16 (i32.add (local.get $o) (i32.mul (local.get $qo) (i32.const 3))) (local.get $qf31))
        (v128.store offset=32 (i32.add (local.get $o) (i32.mul (local.get $qo) (i32.const 3))) (local.get $qf32))
        (v128.store offset=48 (i32.add (local.get $o) (i32.mul (local.get $qo) (i32.const 3))) (local.get $qf33))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $pq_next)))
      (local.set $p0 (i32.add (local.get $p0) (i32.shl (i32.sub (local.get $qe) (local.get $p0)) (i32.const 2))))))
    ;; Q8_0: rows in fours, in groups of rows (gs of them: 512 KiB of xq) that go over every
    ;; panel in turn (see above); rows4 and up are left to the tiles below.
    (local.set $rows4 (select (i32.and (local.get $rows) (i32.const -4)) (i32.const 0) (local.get $q8)))
    (local.set $gs (i32.mul (select (i32.div_u (i32.const 524288) (i32.mul (local.get $ldq) (i32.const 4))) (i32.const 1) (i32.ge_u (i32.const 524288) (i32.mul (local.get $ldq) (i32.const 4)))) (i32.const 4)))
    (local.set $g (i32.const 0))
    (block $g_done
      (loop $g_next
      (br_if $g_done (i32.ge_u (local.get $g) (local.get $rows4)))
      (local.set $ge (select (i32.add (local.get $g) (local.get $gs)) (local.get $rows4) (i32.lt_u (i32.add (local.get $g) (local.get $gs)) (local.get $rows4))))
      (local.set $p (local.get $p0))
      (block $up_done
        (loop $up_next
        (br_if $up_done (i32.ge_u (local.get $p) (local.get $p1)))
        (local.set $bp (select (i32.add (local.get $bias) (i32.shl (local.get $p) (i32.const 6))) (i32.const 0) (local.get $bias)))
        (local.set $r (local.get $g))
          ;; Four rows (r .. r+3) over the half panel at byte uh (0 or 16) of each input pair.
          (block
            (block $u_done
              (loop $u_next
              (br_if $u_done (i32.gt_u (i32.add (local.get $r) (i32.const 4)) (local.get $ge)))
              (local.set $uh (i32.const 0))
              (loop $uh_next
              (local.set $ux0 (i32.add (local.get $xq) (i32.mul (i32.add (local.get $r) (i32.const 0)) (local.get $ldq))))
              (local.set $ud0 (i32.add (local.get $ux0) (i32.shl (local.get $K) (i32.const 1))))
              (local.set $ux1 (i32.add (local.get $xq) (i32.mul (i32.add (local.get $r) (i32.const 1)) (local.get $ldq))))
              (local.set $ud1 (i32.add (local.get $ux1) (i32.shl (local.get $K) (i32.const 1))))
              (local.set $ux2 (i32.add (local.get $xq) (i32.mul (i32.add (local.get $r) (i32.const 2)) (local.get $ldq))))
              (local.set $ud2 (i32.add (local.get $ux2) (i32.shl (local.get $K) (i32.const 1))))
              (local.set $ux3 (i32.add (local.get $xq) (i32.mul (i32.add (local.get $r) (i32.const 3)) (local.get $ldq))))
              (local.set $ud3 (i32.add (local.get $ux3) (i32.shl (local.get $K) (i32.const 1))))
              (local.set $wb (i32.add (local.get $w) (i32.mul (local.get $p) (local.get $ldw))))
              (local.set $uf00 (v128.const i32x4 0 0 0 0))
              (local.set $uf01 (v128.const i32x4 0 0 0 0))
              (local.set $uf10 (v128.const i32x4 0 0 0 0))
              (local.set $uf11 (v128.const i32x4 0 0 0 0))
              (local.set $uf20 (v128.const i32x4 0 0 0 0))
              (local.set $uf21 (v128.const i32x4 0 0 0 0))
              (local.set $uf30 (v128.const i32x4 0 0 0 0))
              (local.set $uf31 (v128.const i32x4 0 0 0 0))
              (local.set $b (i32.const 0))
              (loop $ub_next
                (local.set $uH0 (v128.const i32x4 0 0 0 0))
                (local.set $uD0 (v128.const i32x4 0 0 0 0))
                (local.set $uH1 (v128.const i32x4 0 0 0 0))
                (local.set $uD1 (v128.const i32x4 0 0 0 0))
                (local.set $uH2 (v128.const i32x4 0 0 0 0))
                (local.set $uD2 (v128.const i32x4 0 0 0 0))
                (local.set $uH3 (v128.const i32x4 0 0 0 0))
                (local.set $uD3 (v128.const i32x4 0 0 0 0))
                (local.set $t (i32.add (local.get $wb) (i32.add (local.get $uh) (i32.const 32))))
                (local.set $tend (i32.add (local.get $t) (i32.const 512)))
                (loop $u8
                  (local.set $v (v128.load (local.get $t)))
                  (local.set $n (i16x8.shr_s (local.get $v) (i32.const 8)))
                  (local.set $xs (v128.load32_splat (local.get $ux0)))
                  (local.set $uH0 (i32x4.add (local.get $uH0) (i32x4.dot_i16x8_s (local.get $n) (local.get $xs))))
                  (local.set $uD0 (i32x4.add (local.get $uD0) (i32x4.dot_i16x8_s (local.get $v) (local.get $xs))))
                  (local.set $xs (v128.load32_splat (local.get $ux1)))
                  (local.set $uH1 (i32x4.add (local.get $uH1) (i32x4.dot_i16x8_s (local.get $n) (local.get $xs))))
                  (local.set $uD1 (i32x4.add (local.get $uD1) (i32x4.dot_i16x8_s (local.get $v) (local.get $xs))))
                  (local.set $xs (v128.load32_splat (local.get $ux2)))
                  (local.set $uH2 (i32x4.add (local.get $uH2) (i32x4.dot_i16x8_s (local.get $n) (local.get $xs))))
                  (local.set $uD2 (i32x4.add (local.get $uD2) (i32x4.dot_i16x8_s (local.get $v) (local.get $xs))))
                  (local.set $xs (v128.load32_splat (local.get $ux3)))
                  (local.set $uH3 (i32x4.add (local.get $uH3) (i32x4.dot_i16x8_s (local.get $n) (local.get $xs))))
                  (local.set $uD3 (i32x4.add (local.get $uD3) (i32x4.dot_i16x8_s (local.get $v) (local.get $xs))))
                  (local.set $ux0 (i32.add (local.get $ux0) (i32.const 4)))
                  (local.set $ux1 (i32.add (local.get $ux1) (i32.const 4)))
                  (local.set $ux2 (i32.add (local.get $ux2) (i32.const 4)))
                  (local.set $ux3 (i32.add (local.get $ux3) (i32.const 4)))
                  (local.set $t (i32.add (local.get $t) (i32.const 32)))
                  (br_if $u8 (i32.lt_u (local.get $t) (local.get $tend))))
                (local.set $ws0 (v128.and (i32x4.shl (v128.load16x4_s offset=0 (i32.add (local.get $wb) (local.get $uh))) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
                (local.set $ws1 (v128.and (i32x4.shl (v128.load16x4_s offset=8 (i32.add (local.get $wb) (local.get $uh))) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
                (if (local.get $fix) (then
                  (local.set $ws0 (v128.or (local.get $ws0) (v128.and (i32x4.eq (v128.and (local.get $ws0) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
                  (local.set $ws1 (v128.or (local.get $ws1) (v128.and (i32x4.eq (v128.and (local.get $ws1) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
                ))
                (local.set $uD0 (i32x4.sub (i32x4.sub (local.get $uD0) (i32x4.shl (local.get $uH0) (i32.const 8))) (i32x4.shl (v128.load32_splat offset=4 (local.get $ud0)) (i32.const 4))))
                (local.set $dx (v128.load32_splat (local.get $ud0)))
                (local.set $uf00 (f32x4.add (local.get $uf00) (f32x4.mul (f32x4.convert_i32x4_s (local.get $uH0)) (f32x4.mul (local.get $ws0) (local.get $dx)))))
                (local.set $uf01 (f32x4.add (local.get $uf01) (f32x4.mul (f32x4.convert_i32x4_s (local.get $uD0)) (f32x4.mul (local.get $ws1) (local.get $dx)))))
                (local.set $ud0 (i32.add (local.get $ud0) (i32.const 8)))
                (local.set $uD1 (i32x4.sub (i32x4.sub (local.get $uD1) (i32x4.shl (local.get $uH1) (i32.const 8))) (i32x4.shl (v128.load32_splat offset=4 (local.get $ud1)) (i32.const 4))))
                (local.set $dx (v128.load32_splat (local.get $ud1)))
                (local.set $uf10 (f32x4.add (local.get $uf10) (f32x4.mul (f32x4.convert_i32x4_s (local.get $uH1)) (f32x4.mul (local.get $ws0) (local.get $dx)))))
                (local.set $uf11 (f32x4.add (local.get $uf11) (f32x4.mul (f32x4.convert_i32x4_s (local.get $uD1)) (f32x4.mul (local.get $ws1) (local.get $dx)))))
                (local.set $ud1 (i32.add (local.get $ud1) (i32.const 8)))
                (local.set $uD2 (i32x4.sub (i32x4.sub (local.get $uD2) (i32x4.shl (local.get $uH2) (i32.const 8))) (i32x4.shl (v128.load32_splat offset=4 (local.get $ud2)) (i32.const 4))))
                (local.set $dx (v128.load32_splat (local.get $ud2)))
                (local.set $uf20 (f32x4.add (local.get $uf20) (f32x4.mul (f32x4.convert_i32x4_s (local.get $uH2)) (f32x4.mul (local.get $ws0) (local.get $dx)))))
                (local.set $uf21 (f32x4.add (local.get $uf21) (f32x4.mul (f32x4.convert_i32x4_s (local.get $uD2)) (f32x4.mul (local.get $ws1) (local.get $dx)))))
                (local.set $ud2 (i32.add (local.get $ud2) (i32.const 8)))
                (local.set $uD3 (i32x4.sub (i32x4.sub (local.get $uD3) (i32x4.shl (local.get $uH3) (i32.const 8))) (i32x4.shl (v128.load32_splat offset=4 (local.get $ud3)) (i32.const 4))))
                (local.set $dx (v128.load32_splat (local.get $ud3)))
                (local.set $uf30 (f32x4.add (local.get $uf30) (f32x4.mul (f32x4.convert_i32x4_s (local.get $uH3)) (f32x4.mul (local.get $ws0) (local.get $dx)))))
                (local.set $uf31 (f32x4.add (local.get $uf31) (f32x4.mul (f32x4.convert_i32x4_s (local.get $uD3)) (f32x4.mul (local.get $ws1) (local.get $dx)))))
                (local.set $ud3 (i32.add (local.get $ud3) (i32.const 8)))
                (local.set $wb (i32.add (local.get $wb) (local.get $bb)))
                (local.set $b (i32.add (local.get $b) (i32.const 1)))
                (br_if $ub_next (i32.lt_u (local.get $b) (local.get $nb))))
              (if (local.get $bp) (then
                (local.set $uf00 (f32x4.add (local.get $uf00) (v128.load offset=0 (i32.add (local.get $bp) (i32.shl (local.get $uh) (i32.const 1))))))
                (local.set $uf01 (f32x4.add (local.get $uf01) (v128.load offset=16 (i32.add (local.get $bp) (i32.shl (local.get $uh) (i32.const 1))))))
              ))
              (if (local.get $relu) (then
                (local.set $uf00 (v128.andnot (local.get $uf00) (f32x4.lt (local.get $uf00) (v128.const i32x4 0 0 0 0))))
                (local.set $uf01 (v128.andnot (local.get $uf01) (f32x4.lt (local.get $uf01) (v128.const i32x4 0 0 0 0))))
              ))
              (local.set $o (i32.add (local.get $r) (i32.const 0)))
              (if (i32.and (local.get $pair) (i32.lt_u (i32.or (local.get $o) (i32.const 1)) (local.get $rows)))
                (then
                  (local.set $o (i32.add (i32.add (local.get $out) (i32.mul (i32.and (local.get $o) (i32.const -2)) (local.get $ldo)))
                    (i32.add (i32.add (i32.shl (local.get $p) (i32.const 7)) (i32.shl (local.get $uh) (i32.const 2))) (i32.shl (i32.and (local.get $o) (i32.const 1)) (i32.const 2)))))
                  (f32.store offset=0 (local.get $o) (f32x4.extract_lane 0 (local.get $uf00)))
                  (f32.store offset=8 (local.get $o) (f32x4.extract_lane 1 (local.get $uf00)))
                  (f32.store offset=16 (local.get $o) (f32x4.extract_lane 2 (local.get $uf00)))
                  (f32.store offset=24 (local.get $o) (f32x4.extract_lane 3 (local.get $uf00)))
                  (f32.store offset=32 (local.get $o) (f32x4.extract_lane 0 (local.get $uf01)))
                  (f32.store offset=40 (local.get $o) (f32x4.extract_lane 1 (local.get $uf01)))
                  (f32.store offset=48 (local.get $o) (f32x4.extract_lane 2 (local.get $uf01)))
                  (f32.store offset=56 (local.get $o) (f32x4.extract_lane 3 (local.get $uf01)))
                )
                (else
                  (local.set $o (i32.add (i32.add (local.get $out) (i32.mul (local.get $o) (local.get $ldo)))
                    (i32.add (i32.shl (local.get $p) (i32.const 6)) (i32.shl (local.get $uh) (i32.const 1)))))
                  (v128.store offset=0 (local.get $o) (local.get $uf00))
                  (v128.store offset=16 (local.get $o) (local.get $uf01))
                ))
              (if (local.get $bp) (then
                (local.set $uf10 (f32x4.add (local.get $uf10) (v128.load offset=0 (i32.add (local.get $bp) (i32.shl (local.get $uh) (i32.const 1))))))
                (local.set $uf11 (f32x4.add (local.get $uf11) (v128.load offset=16 (i32.add (local.get $bp) (i32.shl (local.get $uh) (i32.const 1))))))
              ))
              (if (local.get $relu) (then
                (local.set $uf10 (v128.andnot (local.get $uf10) (f32x4.lt (local.get $uf10) (v128.const i32x4 0 0 0 0))))
                (local.set $uf11 (v128.andnot (local.get $uf11) (f32x4.lt (local.get $uf11) (v128.const i32x4 0 0 0 0))))
              ))
              (local.set $o (i32.add (local.get $r) (i32.const 1)))
              (if (i32.and (local.get $pair) (i32.lt_u (i32.or (local.get $o) (i32.const 1)) (local.get $rows)))
                (then
                  (local.set $o (i32.add (i32.add (local.get $out) (i32.mul (i32.and (local.get $o) (i32.const -2)) (local.get $ldo)))
                    (i32.add (i32.add (i32.shl (local.get $p) (i32.const 7)) (i32.shl (local.get $uh) (i32.const 2))) (i32.shl (i32.and (local.get $o) (i32.const 1)) (i32.const 2)))))
                  (f32.store offset=0 (local.get $o) (f32x4.extract_lane 0 (local.get $uf10)))
                  (f32.store offset=8 (local.get $o) (f32x4.extract_lane 1 (local.get $uf10)))
                  (f32.store offset=16 (local.get $o) (f32x4.extract_lane 2 (local.get $uf10)))
                  (f32.store offset=24 (local.get $o) (f32x4.extract_lane 3 (local.get $uf10)))
                  (f32.store offset=32 (local.get $o) (f32x4.extract_lane 0 (local.get $uf11)))
                  (f32.store offset=40 (local.get $o) (f32x4.extract_lane 1 (local.get $uf11)))
                  (f32.store offset=48 (local.get $o) (f32x4.extract_lane 2 (local.get $uf11)))
                  (f32.store offset=56 (local.get $o) (f32x4.extract_lane 3 (local.get $uf11)))
                )
                (else
                  (local.set $o (i32.add (i32.add (local.get $out) (i32.mul (local.get $o) (local.get $ldo)))
                    (i32.add (i32.shl (local.get $p) (i32.const 6)) (i32.shl (local.get $uh) (i32.const 1)))))
                  (v128.store offset=0 (local.get $o) (local.get $uf10))
                  (v128.store offset=16 (local.get $o) (local.get $uf11))
                ))
              (if (local.get $bp) (then
                (local.set $uf20 (f32x4.add (local.get $uf20) (v128.load offset=0 (i32.add (local.get $bp) (i32.shl (local.get $uh) (i32.const 1))))))
                (local.set $uf21 (f32x4.add (local.get $uf21) (v128.load offset=16 (i32.add (local.get $bp) (i32.shl (local.get $uh) (i32.const 1))))))
              ))
              (if (local.get $relu) (then
                (local.set $uf20 (v128.andnot (local.get $uf20) (f32x4.lt (local.get $uf20) (v128.const i32x4 0 0 0 0))))
                (local.set $uf21 (v128.andnot (local.get $uf21) (f32x4.lt (local.get $uf21) (v128.const i32x4 0 0 0 0))))
              ))
              (local.set $o (i32.add (local.get $r) (i32.const 2)))
              (if (i32.and (local.get $pair) (i32.lt_u (i32.or (local.get $o) (i32.const 1)) (local.get $rows)))
                (then
                  (local.set $o (i32.add (i32.add (local.get $out) (i32.mul (i32.and (local.get $o) (i32.const -2)) (local.get $ldo)))
                    (i32.add (i32.add (i32.shl (local.get $p) (i32.const 7)) (i32.shl (local.get $uh) (i32.const 2))) (i32.shl (i32.and (local.get $o) (i32.const 1)) (i32.const 2)))))
                  (f32.store offset=0 (local.get $o) (f32x4.extract_lane 0 (local.get $uf20)))
                  (f32.store offset=8 (local.get $o) (f32x4.extract_lane 1 (local.get $uf20)))
                  (f32.store offset=16 (local.get $o) (f32x4.extract_lane 2 (local.get $uf20)))
                  (f32.store offset=24 (local.get $o) (f32x4.extract_lane 3 (local.get $uf20)))
                  (f32.store offset=32 (local.get $o) (f32x4.extract_lane 0 (local.get $uf21)))
                  (f32.store offset=40 (local.get $o) (f32x4.extract_lane 1 (local.get $uf21)))
                  (f32.store offset=48 (local.get $o) (f32x4.extract_lane 2 (local.get $uf21)))
                  (f32.store offset=56 (local.get $o) (f32x4.extract_lane 3 (local.get $uf21)))
                )
                (else
                  (local.set $o (i32.add (i32.add (local.get $out) (i32.mul (local.get $o) (local.get $ldo)))
                    (i32.add (i32.shl (local.get $p) (i32.const 6)) (i32.shl (local.get $uh) (i32.const 1)))))
                  (v128.store offset=0 (local.get $o) (local.get $uf20))
                  (v128.store offset=16 (local.get $o) (local.get $uf21))
                ))
              (if (local.get $bp) (then
                (local.set $uf30 (f32x4.add (local.get $uf30) (v128.load offset=0 (i32.add (local.get $bp) (i32.shl (local.get $uh) (i32.const 1))))))
                (local.set $uf31 (f32x4.add (local.get $uf31) (v128.load offset=16 (i32.add (local.get $bp) (i32.shl (local.get $uh) (i32.const 1))))))
              ))
              (if (local.get $relu) (then
                (local.set $uf30 (v128.andnot (local.get $uf30) (f32x4.lt (local.get $uf30) (v128.const i32x4 0 0 0 0))))
                (local.set $uf31 (v128.andnot (local.get $uf31) (f32x4.lt (local.get $uf31) (v128.const i32x4 0 0 0 0))))
              ))
              (local.set $o (i32.add (local.get $r) (i32.const 3)))
              (if (i32.and (local.get $pair) (i32.lt_u (i32.or (local.get $o) (i32.const 1)) (local.get $rows)))
                (then
                  (local.set $o (i32.add (i32.add (local.get $out) (i32.mul (i32.and (local.get $o) (i32.const -2)) (local.get $ldo)))
                    (i32.add (i32.add (i32.shl (local.get $p) (i32.const 7)) (i32.shl (local.get $uh) (i32.const 2))) (i32.shl (i32.and (local.get $o) (i32.const 1)) (i32.const 2)))))
                  (f32.store offset=0 (local.get $o) (f32x4.extract_lane 0 (local.get $uf30)))
                  (f32.store offset=8 (local.get $o) (f32x4.extract_lane 1 (local.get $uf30)))
                  (f32.store offset=16 (local.get $o) (f32x4.extract_lane 2 (local.get $uf30)))
                  (f32.store offset=24 (local.get $o) (f32x4.extract_lane 3 (local.get $uf30)))
                  (f32.store offset=32 (local.get $o) (f32x4.extract_lane 0 (local.get $uf31)))
                  (f32.store offset=40 (local.get $o) (f32x4.extract_lane 1 (local.get $uf31)))
                  (f32.store offset=48 (local.get $o) (f32x4.extract_lane 2 (local.get $uf31)))
                  (f32.store offset=56 (local.get $o) (f32x4.extract_lane 3 (local.get $uf31)))
                )
                (else
                  (local.set $o (i32.add (i32.add (local.get $out) (i32.mul (local.get $o) (local.get $ldo)))
                    (i32.add (i32.shl (local.get $p) (i32.const 6)) (i32.shl (local.get $uh) (i32.const 1)))))
                  (v128.store offset=0 (local.get $o) (local.get $uf30))
                  (v128.store offset=16 (local.get $o) (local.get $uf31))
                ))
              (local.set $uh (i32.add (local.get $uh) (i32.const 16)))
              (br_if $uh_next (i32.lt_u (local.get $uh) (i32.const 32))))
              (local.set $r (i32.add (local.get $r) (i32.const 4)))
              (br $u_next))))

        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $up_next)))
      (local.set $g (local.get $ge))
      (br $g_next)))
    (local.set $p (local.get $p0))
    (block $p_done
      (loop $p_next
      (br_if $p_done (i32.ge_u (local.get $p) (local.get $p1)))
      (local.set $bp (select (i32.add (local.get $bias) (i32.shl (local.get $p) (i32.const 6)))
                             (i32.const 0) (local.get $bias)))
      (local.set $r (local.get $rows4))
      (block $r_done
        (loop $r_next
        (br_if $r_done (i32.ge_u (local.get $r) (local.get $rows)))
        ;; Rows r and r+1 together when both are there (each weight vector serves both), else r alone.
        (local.set $two (i32.lt_u (i32.add (local.get $r) (i32.const 1)) (local.get $rows)))
        (local.set $xb (i32.add (local.get $xq) (i32.mul (local.get $r) (local.get $ldq))))
        (local.set $yb (i32.add (local.get $xb) (local.get $ldq)))
        (local.set $xd (i32.add (local.get $xb) (i32.shl (local.get $K) (i32.const 1))))
        (local.set $yd (i32.add (local.get $yb) (i32.shl (local.get $K) (i32.const 1))))
        (local.set $wb (i32.add (local.get $w) (i32.mul (local.get $p) (local.get $ldw))))
        (local.set $f0 (v128.const i32x4 0 0 0 0))
        (local.set $f1 (v128.const i32x4 0 0 0 0))
        (local.set $f2 (v128.const i32x4 0 0 0 0))
        (local.set $f3 (v128.const i32x4 0 0 0 0))
        (local.set $g0 (v128.const i32x4 0 0 0 0))
        (local.set $g1 (v128.const i32x4 0 0 0 0))
        (local.set $g2 (v128.const i32x4 0 0 0 0))
        (local.set $g3 (v128.const i32x4 0 0 0 0))
        (local.set $b (i32.const 0))
        (loop $b_next
          (local.set $a0 (v128.const i32x4 0 0 0 0))
          (local.set $a1 (v128.const i32x4 0 0 0 0))
          (local.set $a2 (v128.const i32x4 0 0 0 0))
          (local.set $a3 (v128.const i32x4 0 0 0 0))
          (local.set $t (i32.add (local.get $wb) (i32.const 32)))
          (local.set $tend (i32.add (local.get $wb) (local.get $bb)))
          (if (local.get $two)
            (then
              (local.set $c0 (v128.const i32x4 0 0 0 0))
              (local.set $c1 (v128.const i32x4 0 0 0 0))
              (local.set $c2 (v128.const i32x4 0 0 0 0))
              (local.set $c3 (v128.const i32x4 0 0 0 0))
              (if (local.get $q8)
                (then
                  (loop $q8_two
                    (local.set $xs (v128.load32_splat offset=0 (local.get $xb)))
                    (local.set $ys (v128.load32_splat offset=0 (local.get $yb)))
                    (local.set $v (v128.load offset=0 (local.get $t)))
                    (local.set $n (i16x8.shr_s (local.get $v) (i32.const 8)))
                    (local.set $a0 (i32x4.add (local.get $a0) (i32x4.dot_i16x8_s (local.get $n) (local.get $xs))))
                    (local.set $c0 (i32x4.add (local.get $c0) (i32x4.dot_i16x8_s (local.get $n) (local.get $ys))))
                    (local.set $a1 (i32x4.add (local.get $a1) (i32x4.dot_i16x8_s (local.get $v) (local.get $xs))))
                    (local.set $c1 (i32x4.add (local.get $c1) (i32x4.dot_i16x8_s (local.get $v) (local.get $ys))))
                    (local.set $v (v128.load offset=16 (local.get $t)))
                    (local.set $n (i16x8.shr_s (local.get $v) (i32.const 8)))
                    (local.set $a2 (i32x4.add (local.get $a2) (i32x4.dot_i16x8_s (local.get $n) (local.get $xs))))
                    (local.set $c2 (i32x4.add (local.get $c2) (i32x4.dot_i16x8_s (local.get $n) (local.get $ys))))
                    (local.set $a3 (i32x4.add (local.get $a3) (i32x4.dot_i16x8_s (local.get $v) (local.get $xs))))
                    (local.set $c3 (i32x4.add (local.get $c3) (i32x4.dot_i16x8_s (local.get $v) (local.get $ys))))
                    (local.set $xb (i32.add (local.get $xb) (i32.const 4)))
                    (local.set $yb (i32.add (local.get $yb) (i32.const 4)))
                    (local.set $t (i32.add (local.get $t) (i32.const 32)))
                    (br_if $q8_two (i32.lt_u (local.get $t) (local.get $tend))))
                )
                (else
                  (loop $q4_two
                    (local.set $xs (v128.load32_splat offset=0 (local.get $xb)))
                    (local.set $ys (v128.load32_splat offset=0 (local.get $yb)))
                    (local.set $v (v128.load offset=0 (local.get $t)))
                    (local.set $n (v128.and (local.get $v) (local.get $m0)))
                    (local.set $a0 (i32x4.add (local.get $a0) (i32x4.dot_i16x8_s (local.get $n) (local.get $xs))))
                    (local.set $c0 (i32x4.add (local.get $c0) (i32x4.dot_i16x8_s (local.get $n) (local.get $ys))))
                    (local.set $n (v128.and (local.get $v) (local.get $m1)))
                    (local.set $a1 (i32x4.add (local.get $a1) (i32x4.dot_i16x8_s (local.get $n) (local.get $xs))))
                    (local.set $c1 (i32x4.add (local.get $c1) (i32x4.dot_i16x8_s (local.get $n) (local.get $ys))))
                    (local.set $n (v128.and (local.get $v) (local.get $m2)))
                    (local.set $a2 (i32x4.add (local.get $a2) (i32x4.dot_i16x8_s (local.get $n) (local.get $xs))))
                    (local.set $c2 (i32x4.add (local.get $c2) (i32x4.dot_i16x8_s (local.get $n) (local.get $ys))))
                    (local.set $n (i16x8.shr_u (local.get $v) (i32.const 12)))
                    (local.set $a3 (i32x4.add (local.get $a3) (i32x4.dot_i16x8_s (local.get $n) (local.get $xs))))
                    (local.set $c3 (i32x4.add (local.get $c3) (i32x4.dot_i16x8_s (local.get $n) (local.get $ys))))
                    (local.set $xb (i32.add (local.get $xb) (i32.const 4)))
                    (local.set $yb (i32.add (local.get $yb) (i32.const 4)))
                    (local.set $t (i32.add (local.get $t) (i32.const 16)))
                    (br_if $q4_two (i32.lt_u (local.get $t) (local.get $tend))))
                )))
            (else
              (if (local.get $q8)
                (then
                  (loop $q8_one
                    (local.set $xs (v128.load32_splat offset=0 (local.get $xb)))
                    (local.set $v (v128.load offset=0 (local.get $t)))
                    (local.set $a0 (i32x4.add (local.get $a0) (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $v) (i32.const 8)) (local.get $xs))))
                    (local.set $a1 (i32x4.add (local.get $a1) (i32x4.dot_i16x8_s (local.get $v) (local.get $xs))))
                    (local.set $v (v128.load offset=16 (local.get $t)))
                    (local.set $a2 (i32x4.add (local.get $a2) (i32x4.dot_i16x8_s (i16x8.shr_s (local.get $v) (i32.const 8)) (local.get $xs))))
                    (local.set $a3 (i32x4.add (local.get $a3) (i32x4.dot_i16x8_s (local.get $v) (local.get $xs))))
                    (local.set $xb (i32.add (local.get $xb) (i32.const 4)))
                    (local.set $t (i32.add (local.get $t) (i32.const 32)))
                    (br_if $q8_one (i32.lt_u (local.get $t) (local.get $tend))))
                )
                (else
                  (loop $q4_one
                    (local.set $xs (v128.load32_splat offset=0 (local.get $xb)))
                    (local.set $v (v128.load offset=0 (local.get $t)))
                    (local.set $a0 (i32x4.add (local.get $a0) (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m0)) (local.get $xs))))
                    (local.set $a1 (i32x4.add (local.get $a1) (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m1)) (local.get $xs))))
                    (local.set $a2 (i32x4.add (local.get $a2) (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m2)) (local.get $xs))))
                    (local.set $a3 (i32x4.add (local.get $a3) (i32x4.dot_i16x8_s (i16x8.shr_u (local.get $v) (i32.const 12)) (local.get $xs))))
                    (local.set $xb (i32.add (local.get $xb) (i32.const 4)))
                    (local.set $t (i32.add (local.get $t) (i32.const 16)))
                    (br_if $q4_one (i32.lt_u (local.get $t) (local.get $tend))))
                ))))
          ;; The columns' f16 scales as float32 values times 2^-112: sign-extended, shifted into
          ;; place and masked, exact for every finite f16 (subnormals included); a map holding an
          ;; infinite or NaN scale (code bit 16) gets float32's all-ones exponent for those.
          (local.set $ws0 (v128.and (i32x4.shl (v128.load16x4_s offset=0 (local.get $wb)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
          (local.set $ws1 (v128.and (i32x4.shl (v128.load16x4_s offset=8 (local.get $wb)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
          (local.set $ws2 (v128.and (i32x4.shl (v128.load16x4_s offset=16 (local.get $wb)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
          (local.set $ws3 (v128.and (i32x4.shl (v128.load16x4_s offset=24 (local.get $wb)) (i32.const 13)) (v128.const i32x4 0x8fffffff 0x8fffffff 0x8fffffff 0x8fffffff)))
          (if (local.get $fix) (then
            (local.set $ws0 (v128.or (local.get $ws0) (v128.and (i32x4.eq (v128.and (local.get $ws0) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
            (local.set $ws1 (v128.or (local.get $ws1) (v128.and (i32x4.eq (v128.and (local.get $ws1) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
            (local.set $ws2 (v128.or (local.get $ws2) (v128.and (i32x4.eq (v128.and (local.get $ws2) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
            (local.set $ws3 (v128.or (local.get $ws3) (v128.and (i32x4.eq (v128.and (local.get $ws3) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x0f800000 0x0f800000 0x0f800000 0x0f800000)) (v128.const i32x4 0x70000000 0x70000000 0x70000000 0x70000000))))
          ))
          ;; sum + sumi * (d_w * d_x), d_x kept times 2^112, so the product is d_w * d_x rounded once.
          (local.set $s (v128.load32_splat offset=4 (local.get $xd)))
          (if (local.get $q8)
            (then
              ;; Q8_0: see qgemm's note on the sums of a 16-bit lane's two quants.
              (local.set $s (i32x4.shl (local.get $s) (i32.const 4)))
              (local.set $a1 (i32x4.sub (i32x4.sub (local.get $a1) (i32x4.shl (local.get $a0) (i32.const 8))) (local.get $s)))
              (local.set $a3 (i32x4.sub (i32x4.sub (local.get $a3) (i32x4.shl (local.get $a2) (i32.const 8))) (local.get $s))))
            (else
              ;; Q4_0: the masked nibbles of columns 4-7 and 8-11 were 16 and 256 times theirs, and
              ;; every nibble n stood for n - 8: take 8 times the block's activation sum off.
              (local.set $a0 (i32x4.sub (local.get $a0) (local.get $s)))
              (local.set $a1 (i32x4.sub (i32x4.shr_s (local.get $a1) (i32.const 4)) (local.get $s)))
              (local.set $a2 (i32x4.sub (i32x4.shr_s (local.get $a2) (i32.const 8)) (local.get $s)))
              (local.set $a3 (i32x4.sub (local.get $a3) (local.get $s)))))
          (local.set $dx (v128.load32_splat (local.get $xd)))
          (local.set $f0 (f32x4.add (local.get $f0) (f32x4.mul (f32x4.convert_i32x4_s (local.get $a0)) (f32x4.mul (local.get $ws0) (local.get $dx)))))
          (local.set $f1 (f32x4.add (local.get $f1) (f32x4.mul (f32x4.convert_i32x4_s (local.get $a1)) (f32x4.mul (local.get $ws1) (local.get $dx)))))
          (local.set $f2 (f32x4.add (local.get $f2) (f32x4.mul (f32x4.convert_i32x4_s (local.get $a2)) (f32x4.mul (local.get $ws2) (local.get $dx)))))
          (local.set $f3 (f32x4.add (local.get $f3) (f32x4.mul (f32x4.convert_i32x4_s (local.get $a3)) (f32x4.mul (local.get $ws3) (local.get $dx)))))
          (if (local.get $two) (then
            (local.set $s (v128.load32_splat offset=4 (local.get $yd)))
            (if (local.get $q8)
              (then
                ;; Q8_0: see qgemm's note on the sums of a 16-bit lane's two quants.
                (local.set $s (i32x4.shl (local.get $s) (i32.const 4)))
                (local.set $c1 (i32x4.sub (i32x4.sub (local.get $c1) (i32x4.shl (local.get $c0) (i32.const 8))) (local.get $s)))
                (local.set $c3 (i32x4.sub (i32x4.sub (local.get $c3) (i32x4.shl (local.get $c2) (i32.const 8))) (local.get $s))))
              (else
                ;; Q4_0: the masked nibbles of columns 4-7 and 8-11 were 16 and 256 times theirs, and
                ;; every nibble n stood for n - 8: take 8 times the block's activation sum off.
                (local.set $c0 (i32x4.sub (local.get $c0) (local.get $s)))
                (local.set $c1 (i32x4.sub (i32x4.shr_s (local.get $c1) (i32.const 4)) (local.get $s)))
                (local.set $c2 (i32x4.sub (i32x4.shr_s (local.get $c2) (i32.const 8)) (local.get $s)))
                (local.set $c3 (i32x4.sub (local.get $c3) (local.get $s)))))
            (local.set $dx (v128.load32_splat (local.get $yd)))
            (local.set $g0 (f32x4.add (local.get $g0) (f32x4.mul (f32x4.convert_i32x4_s (local.get $c0)) (f32x4.mul (local.get $ws0) (local.get $dx)))))
            (local.set $g1 (f32x4.add (local.get $g1) (f32x4.mul (f32x4.convert_i32x4_s (local.get $c1)) (f32x4.mul (local.get $ws1) (local.get $dx)))))
            (local.set $g2 (f32x4.add (local.get $g2) (f32x4.mul (f32x4.convert_i32x4_s (local.get $c2)) (f32x4.mul (local.get $ws2) (local.get $dx)))))
            (local.set $g3 (f32x4.add (local.get $g3) (f32x4.mul (f32x4.convert_i32x4_s (local.get $c3)) (f32x4.mul (local.get $ws3) (local.get $dx)))))
          ))
          (local.set $xd (i32.add (local.get $xd) (i32.const 8)))
          (local.set $yd (i32.add (local.get $yd) (i32.const 8)))
          (local.set $wb (i32.add (local.get $wb) (local.get $bb)))
          (local.set $b (i32.add (local.get $b) (i32.const 1)))
          (br_if $b_next (i32.lt_u (local.get $b) (local.get $nb))))
        (local.set $o (local.get $r))
        (if (local.get $bp) (then
          (local.set $f0 (f32x4.add (local.get $f0) (v128.load offset=0 (local.get $bp))))
          (local.set $f1 (f32x4.add (local.get $f1) (v128.load offset=16 (local.get $bp))))
          (local.set $f2 (f32x4.add (local.get $f2) (v128.load offset=32 (local.get $bp))))
          (local.set $f3 (f32x4.add (local.get $f3) (v128.load offset=48 (local.get $bp))))
        ))
        (if (local.get $relu) (then
          (local.set $f0 (v128.andnot (local.get $f0) (f32x4.lt (local.get $f0) (v128.const i32x4 0 0 0 0))))
          (local.set $f1 (v128.andnot (local.get $f1) (f32x4.lt (local.get $f1) (v128.const i32x4 0 0 0 0))))
          (local.set $f2 (v128.andnot (local.get $f2) (f32x4.lt (local.get $f2) (v128.const i32x4 0 0 0 0))))
          (local.set $f3 (v128.andnot (local.get $f3) (f32x4.lt (local.get $f3) (v128.const i32x4 0 0 0 0))))
        ))
        (if (i32.and (local.get $pair) (i32.lt_u (i32.or (local.get $o) (i32.const 1)) (local.get $rows)))
          (then
            ;; In a pair of rows: element c at 8c, after the pair's other row's.
            (local.set $o (i32.add (i32.add (local.get $out)
              (i32.mul (i32.and (local.get $o) (i32.const -2)) (local.get $ldo)))
              (i32.add (i32.shl (local.get $p) (i32.const 7)) (i32.shl (i32.and (local.get $o) (i32.const 1)) (i32.const 2)))))
            (f32.store offset=0 (local.get $o) (f32x4.extract_lane 0 (local.get $f0)))
            (f32.store offset=8 (local.get $o) (f32x4.extract_lane 1 (local.get $f0)))
            (f32.store offset=16 (local.get $o) (f32x4.extract_lane 2 (local.get $f0)))
            (f32.store offset=24 (local.get $o) (f32x4.extract_lane 3 (local.get $f0)))
            (f32.store offset=32 (local.get $o) (f32x4.extract_lane 0 (local.get $f1)))
            (f32.store offset=40 (local.get $o) (f32x4.extract_lane 1 (local.get $f1)))
            (f32.store offset=48 (local.get $o) (f32x4.extract_lane 2 (local.get $f1)))
            (f32.store offset=56 (local.get $o) (f32x4.extract_lane 3 (local.get $f1)))
            (f32.store offset=64 (local.get $o) (f32x4.extract_lane 0 (local.get $f2)))
            (f32.store offset=72 (local.get $o) (f32x4.extract_lane 1 (local.get $f2)))
            (f32.store offset=80 (local.get $o) (f32x4.extract_lane 2 (local.get $f2)))
            (f32.store offset=88 (local.get $o) (f32x4.extract_lane 3 (local.get $f2)))
            (f32.store offset=96 (local.get $o) (f32x4.extract_lane 0 (local.get $f3)))
            (f32.store offset=104 (local.get $o) (f32x4.extract_lane 1 (local.get $f3)))
            (f32.store offset=112 (local.get $o) (f32x4.extract_lane 2 (local.get $f3)))
            (f32.store offset=120 (local.get $o) (f32x4.extract_lane 3 (local.get $f3)))
          )
          (else
            (local.set $o (i32.add (i32.add (local.get $out) (i32.mul (local.get $o) (local.get $ldo)))
                                   (i32.shl (local.get $p) (i32.const 6))))
            (v128.store offset=0 (local.get $o) (local.get $f0))
            (v128.store offset=16 (local.get $o) (local.get $f1))
            (v128.store offset=32 (local.get $o) (local.get $f2))
            (v128.store offset=48 (local.get $o) (local.get $f3))
          ))
        (if (local.get $two) (then
          (local.set $o (i32.add (local.get $r) (i32.const 1)))
          (if (local.get $bp) (then
            (local.set $g0 (f32x4.add (local.get $g0) (v128.load offset=0 (local.get $bp))))
            (local.set $g1 (f32x4.add (local.get $g1) (v128.load offset=16 (local.get $bp))))
            (local.set $g2 (f32x4.add (local.get $g2) (v128.load offset=32 (local.get $bp))))
            (local.set $g3 (f32x4.add (local.get $g3) (v128.load offset=48 (local.get $bp))))
          ))
          (if (local.get $relu) (then
            (local.set $g0 (v128.andnot (local.get $g0) (f32x4.lt (local.get $g0) (v128.const i32x4 0 0 0 0))))
            (local.set $g1 (v128.andnot (local.get $g1) (f32x4.lt (local.get $g1) (v128.const i32x4 0 0 0 0))))
            (local.set $g2 (v128.andnot (local.get $g2) (f32x4.lt (local.get $g2) (v128.const i32x4 0 0 0 0))))
            (local.set $g3 (v128.andnot (local.get $g3) (f32x4.lt (local.get $g3) (v128.const i32x4 0 0 0 0))))
          ))
          (if (i32.and (local.get $pair) (i32.lt_u (i32.or (local.get $o) (i32.const 1)) (local.get $rows)))
            (then
              ;; In a pair of rows: element c at 8c, after the pair's other row's.
              (local.set $o (i32.add (i32.add (local.get $out)
                (i32.mul (i32.and (local.get $o) (i32.const -2)) (local.get $ldo)))
                (i32.add (i32.shl (local.get $p) (i32.const 7)) (i32.shl (i32.and (local.get $o) (i32.const 1)) (i32.const 2)))))
              (f32.store offset=0 (local.get $o) (f32x4.extract_lane 0 (local.get $g0)))
              (f32.store offset=8 (local.get $o) (f32x4.extract_lane 1 (local.get $g0)))
              (f32.store offset=16 (local.get $o) (f32x4.extract_lane 2 (local.get $g0)))
              (f32.store offset=24 (local.get $o) (f32x4.extract_lane 3 (local.get $g0)))
              (f32.store offset=32 (local.get $o) (f32x4.extract_lane 0 (local.get $g1)))
              (f32.store offset=40 (local.get $o) (f32x4.extract_lane 1 (local.get $g1)))
              (f32.store offset=48 (local.get $o) (f32x4.extract_lane 2 (local.get $g1)))
              (f32.store offset=56 (local.get $o) (f32x4.extract_lane 3 (local.get $g1)))
              (f32.store offset=64 (local.get $o) (f32x4.extract_lane 0 (local.get $g2)))
              (f32.store offset=72 (local.get $o) (f32x4.extract_lane 1 (local.get $g2)))
              (f32.store offset=80 (local.get $o) (f32x4.extract_lane 2 (local.get $g2)))
              (f32.store offset=88 (local.get $o) (f32x4.extract_lane 3 (local.get $g2)))
              (f32.store offset=96 (local.get $o) (f32x4.extract_lane 0 (local.get $g3)))
              (f32.store offset=104 (local.get $o) (f32x4.extract_lane 1 (local.get $g3)))
              (f32.store offset=112 (local.get $o) (f32x4.extract_lane 2 (local.get $g3)))
              (f32.store offset=120 (local.get $o) (f32x4.extract_lane 3 (local.get $g3)))
            )
            (else
              (local.set $o (i32.add (i32.add (local.get $out) (i32.mul (local.get $o) (local.get $ldo)))
                                     (i32.shl (local.get $p) (i32.const 6))))
              (v128.store offset=0 (local.get $o) (local.get $g0))
              (v128.store offset=16 (local.get $o) (local.get $g1))
              (v128.store offset=32 (local.get $o) (local.get $g2))
              (v128.store offset=48 (local.get $o) (local.get $g3))
            ))
        ))
        (local.set $r (i32.add (i32.add (local.get $r) (i32.const 1)) (local.get $two)))
        (br $r_next)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $p_next))))
)
