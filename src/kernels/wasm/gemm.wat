;; tokenwise GEMM kernel, WebAssembly SIMD128. This file is the source: scripts/build-wasm.mjs
;; assembles it and embeds the bytes in src/kernels/wasm/gemm.wasm.ts.
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
    (local $xa i32) (local $xend i32) (local $q i32) (local $xend2 i32)
    (local $a v128) (local $b v128) (local $w0 v128) (local $w1 v128) (local $w2 v128) (local $w3 v128)
    (local $c00 v128) (local $c01 v128) (local $c02 v128) (local $c03 v128) (local $c04 v128) (local $c05 v128) (local $c06 v128) (local $c07 v128) (local $c10 v128) (local $c11 v128) (local $c12 v128) (local $c13 v128)
    ;; Row pairs, panel by panel: the panel stays in cache while the rows stream by.
    (local.set $p (local.get $p0))
    (block $p_done
      (loop $p_next
      (br_if $p_done (i32.ge_u (local.get $p) (local.get $p1)))
      (local.set $bp (select (i32.add (local.get $bias) (i32.shl (local.get $p) (i32.const 6)))
                             (i32.const 0) (local.get $bias)))
      (local.set $r (i32.const 0))
      (block $r_done
        (loop $r_next
        (br_if $r_done (i32.gt_u (i32.add (local.get $r) (i32.const 2)) (local.get $rows)))
        (local.set $xa (i32.add (local.get $x) (i32.mul (local.get $r) (local.get $lda))))
        (local.set $xend (i32.add (local.get $xa) (i32.shl (local.get $K) (i32.const 3))))
        (local.set $wq (i32.add (local.get $w) (i32.mul (local.get $p) (local.get $ldw))))
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
    ;; The odd last row (or the only one): two panels at a time (1 x 32), then a last panel alone
    ;; (1 x 16).
    (if (i32.and (local.get $rows) (i32.const 1))
      (then
      (local.set $r (i32.sub (local.get $rows) (i32.const 1)))
      (local.set $xend (i32.add (i32.add (local.get $x) (i32.mul (local.get $r) (local.get $lda))) (i32.shl (local.get $K) (i32.const 2))))
      (local.set $p (local.get $p0))
      (block $t_done
        (loop $t_next
        (br_if $t_done (i32.gt_u (i32.add (local.get $p) (i32.const 2)) (local.get $p1)))
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
        (br_if $q_done (i32.ge_u (local.get $p) (local.get $p1)))
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
        (br $q_next)))))))
