;; tokenwise GEMM kernel, WebAssembly SIMD128. The source of truth: scripts/build-wasm.mjs
;; assembles this file and embeds the bytes in src/kernels/wasm/gemm.wasm.ts.
;;
;; gemm: out[r, j] = act(sum_k x[r, k] * w[k, j] + bias[j]) for the columns of panels p0 .. p1-1.
;;   x is (rows, K) with a row stride of lda bytes; out has a row stride of ldo bytes.
;;   w is packed in panels of 16 columns: panel p holds w[k, 16p + c] at
;;   w + (p * K + k) * 64 + 4c, zero-padded past the last column. bias is 16-padded too, or 0
;;   for no bias. act is 0 for none, 1 for relu (x < 0 ? +0 : x, so -0 and NaN pass through).
;;
;; The register tile is 2 rows x 16 columns: 8 accumulators, 4 panel vectors, 2 splats = 14
;; v128 values, under the 15 that V8 leaves free on x64. Larger tiles spill.
;;
;; Batch invariance: each output element is summed in f32, over k = 0 .. K-1 in order, as
;; acc = acc + x * w (a rounded multiply, then a rounded add; never fused), from acc = +0,
;; then the bias is added and the activation applied. The 1-row tail does exactly the same per
;; element as the 2-row tile, so an element's bits never depend on its neighbours or on rows.
(module
  (import "env" "memory" (memory 1 65536))

  (func $finish (param $v v128) (param $bp i32) (param $off i32) (param $act i32) (result v128)
    (if (local.get $bp)
      (then (local.set $v (f32x4.add (local.get $v)
        (v128.load (i32.add (local.get $bp) (local.get $off)))))))
    (if (result v128) (local.get $act)
      (then (v128.andnot (local.get $v) (f32x4.lt (local.get $v) (v128.const i32x4 0 0 0 0))))
      (else (local.get $v))))

  (func (export "gemm")
    (param $x i32) (param $lda i32) (param $rows i32) (param $K i32)
    (param $w i32) (param $p0 i32) (param $p1 i32)
    (param $bias i32) (param $act i32) (param $out i32) (param $ldo i32)
    (local $p i32) (local $r i32) (local $wp i32) (local $wq i32) (local $bp i32) (local $o i32)
    (local $xa i32) (local $xb i32) (local $xend i32)
    (local $a v128) (local $b v128) (local $w0 v128) (local $w1 v128) (local $w2 v128) (local $w3 v128)
    (local $c00 v128) (local $c01 v128) (local $c02 v128) (local $c03 v128) (local $c10 v128) (local $c11 v128) (local $c12 v128) (local $c13 v128)
    (local.set $p (local.get $p0))
    (block $p_done
      (loop $p_next
      (br_if $p_done (i32.ge_u (local.get $p) (local.get $p1)))
      (local.set $wp (i32.add (local.get $w) (i32.shl (i32.mul (local.get $p) (local.get $K)) (i32.const 6))))
      (local.set $bp (select (i32.add (local.get $bias) (i32.shl (local.get $p) (i32.const 6)))
                             (i32.const 0) (local.get $bias)))
      (local.set $r (i32.const 0))
      (block $r_done
        (loop $r_next
        (br_if $r_done (i32.gt_u (i32.add (local.get $r) (i32.const 2)) (local.get $rows)))
        (local.set $xa (i32.add (local.get $x) (i32.mul (local.get $r) (local.get $lda))))
        (local.set $xb (i32.add (local.get $xa) (local.get $lda)))
        (local.set $xend (i32.add (local.get $xa) (i32.shl (local.get $K) (i32.const 2))))
        (local.set $wq (local.get $wp))
        (local.set $c00 (v128.const i32x4 0 0 0 0))
        (local.set $c01 (v128.const i32x4 0 0 0 0))
        (local.set $c02 (v128.const i32x4 0 0 0 0))
        (local.set $c03 (v128.const i32x4 0 0 0 0))
        (local.set $c10 (v128.const i32x4 0 0 0 0))
        (local.set $c11 (v128.const i32x4 0 0 0 0))
        (local.set $c12 (v128.const i32x4 0 0 0 0))
        (local.set $c13 (v128.const i32x4 0 0 0 0))
        (block $k_done2
          (loop $k_next2
          (br_if $k_done2 (i32.ge_u (local.get $xa) (local.get $xend)))
          (local.set $w0 (v128.load offset=0 (local.get $wq)))
          (local.set $w1 (v128.load offset=16 (local.get $wq)))
          (local.set $w2 (v128.load offset=32 (local.get $wq)))
          (local.set $w3 (v128.load offset=48 (local.get $wq)))
          (local.set $a (f32x4.splat (f32.load (local.get $xa))))
          (local.set $b (f32x4.splat (f32.load (local.get $xb))))
          (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $a) (local.get $w0))))
          (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $a) (local.get $w1))))
          (local.set $c02 (f32x4.add (local.get $c02) (f32x4.mul (local.get $a) (local.get $w2))))
          (local.set $c03 (f32x4.add (local.get $c03) (f32x4.mul (local.get $a) (local.get $w3))))
          (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $b) (local.get $w0))))
          (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $b) (local.get $w1))))
          (local.set $c12 (f32x4.add (local.get $c12) (f32x4.mul (local.get $b) (local.get $w2))))
          (local.set $c13 (f32x4.add (local.get $c13) (f32x4.mul (local.get $b) (local.get $w3))))
          (local.set $xa (i32.add (local.get $xa) (i32.const 4)))
          (local.set $xb (i32.add (local.get $xb) (i32.const 4)))
          (local.set $wq (i32.add (local.get $wq) (i32.const 64)))
          (br $k_next2)))
        (local.set $o (i32.add (i32.add (local.get $out) (i32.mul (local.get $r) (local.get $ldo)))
                               (i32.shl (local.get $p) (i32.const 6))))
        (v128.store offset=0 (local.get $o) (call $finish (local.get $c00) (local.get $bp) (i32.const 0) (local.get $act)))
        (v128.store offset=16 (local.get $o) (call $finish (local.get $c01) (local.get $bp) (i32.const 16) (local.get $act)))
        (v128.store offset=32 (local.get $o) (call $finish (local.get $c02) (local.get $bp) (i32.const 32) (local.get $act)))
        (v128.store offset=48 (local.get $o) (call $finish (local.get $c03) (local.get $bp) (i32.const 48) (local.get $act)))
        (v128.store offset=0 (i32.add (local.get $o) (local.get $ldo)) (call $finish (local.get $c10) (local.get $bp) (i32.const 0) (local.get $act)))
        (v128.store offset=16 (i32.add (local.get $o) (local.get $ldo)) (call $finish (local.get $c11) (local.get $bp) (i32.const 16) (local.get $act)))
        (v128.store offset=32 (i32.add (local.get $o) (local.get $ldo)) (call $finish (local.get $c12) (local.get $bp) (i32.const 32) (local.get $act)))
        (v128.store offset=48 (i32.add (local.get $o) (local.get $ldo)) (call $finish (local.get $c13) (local.get $bp) (i32.const 48) (local.get $act)))
        (local.set $r (i32.add (local.get $r) (i32.const 2)))
        (br $r_next)))
      (if (i32.lt_u (local.get $r) (local.get $rows))
        (then
        (local.set $xa (i32.add (local.get $x) (i32.mul (local.get $r) (local.get $lda))))
        (local.set $xend (i32.add (local.get $xa) (i32.shl (local.get $K) (i32.const 2))))
        (local.set $wq (local.get $wp))
        (local.set $c00 (v128.const i32x4 0 0 0 0))
        (local.set $c01 (v128.const i32x4 0 0 0 0))
        (local.set $c02 (v128.const i32x4 0 0 0 0))
        (local.set $c03 (v128.const i32x4 0 0 0 0))
        (block $k_done1
          (loop $k_next1
          (br_if $k_done1 (i32.ge_u (local.get $xa) (local.get $xend)))
          (local.set $w0 (v128.load offset=0 (local.get $wq)))
          (local.set $w1 (v128.load offset=16 (local.get $wq)))
          (local.set $w2 (v128.load offset=32 (local.get $wq)))
          (local.set $w3 (v128.load offset=48 (local.get $wq)))
          (local.set $a (f32x4.splat (f32.load (local.get $xa))))
          (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $a) (local.get $w0))))
          (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $a) (local.get $w1))))
          (local.set $c02 (f32x4.add (local.get $c02) (f32x4.mul (local.get $a) (local.get $w2))))
          (local.set $c03 (f32x4.add (local.get $c03) (f32x4.mul (local.get $a) (local.get $w3))))
          (local.set $xa (i32.add (local.get $xa) (i32.const 4)))
          (local.set $wq (i32.add (local.get $wq) (i32.const 64)))
          (br $k_next1)))
        (local.set $o (i32.add (i32.add (local.get $out) (i32.mul (local.get $r) (local.get $ldo)))
                               (i32.shl (local.get $p) (i32.const 6))))
        (v128.store offset=0 (local.get $o) (call $finish (local.get $c00) (local.get $bp) (i32.const 0) (local.get $act)))
        (v128.store offset=16 (local.get $o) (call $finish (local.get $c01) (local.get $bp) (i32.const 16) (local.get $act)))
        (v128.store offset=32 (local.get $o) (call $finish (local.get $c02) (local.get $bp) (i32.const 32) (local.get $act)))
        (v128.store offset=48 (local.get $o) (call $finish (local.get $c03) (local.get $bp) (i32.const 48) (local.get $act)))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $p_next)))))
