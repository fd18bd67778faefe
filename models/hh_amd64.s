#include "go_asm.h"
#include "textflag.h"

// The RKF45 kernel of hh_rkf.go for groups of four lanes, one lane per
// float64 of a ymm register (AVX2 and FMA; hh_amd64.go checks the CPU).
// Every operation is the one the scalar code does, in its order, with
// its roundings: a VFMADD where the Go code calls hhFMA (fused on a CPU
// with FMA, hh_amd64.go), a separate multiply and add where it does not
// (float64(x*y) + z), a sign flip where it negates, so that a lane
// computes the same numbers here as in evalLanes, args, sums and roots
// (TestHHVecMatchesScalar). Operand order is Go's: the last
// operand is the destination, VSUBPD b, a, d is d = a - b, VDIVPD b, a,
// d is d = a / b, VFMADD213PD c, a, d is d = a*d + c and VFMADD231PD b,
// a, d is d = a*b + d (a product rounds the same either way round).
//
// Layout (hh_rkf.go): component c of lane group g (lanes 4g..4g+3) of an
// hhLanes or [odeBlock]float64 field is c*ROW + g*32 bytes into it; the
// stages ks[j] are LANES bytes apart.

#define ROW 128
#define LANES 1024
#define KS0 hhRKF_ks
#define KS1 hhRKF_ks+1024
#define KS2 hhRKF_ks+2048
#define KS3 hhRKF_ks+3072
#define KS4 hhRKF_ks+4096
#define KS5 hhRKF_ks+5120

// hhRHS.vec: gNa, eNa, gK, eK, gL, eL, invCm, invTauE, invTauI, four each.
#define GNA hhRHS_vec+0
#define ENA hhRHS_vec+32
#define GK hhRHS_vec+64
#define EK hhRHS_vec+96
#define GL hhRHS_vec+128
#define EL hhRHS_vec+160
#define INVCM hhRHS_vec+192
#define INVTAUE hhRHS_vec+224
#define INVTAUI hhRHS_vec+256

// VCMPPD predicates (ordered, quiet: false for NaN).
#define GE 0x1d
#define LE 0x12
#define GT 0x1e
#define EQ 0x00

// func hhStageAVX(k *hhRKF, c *hhVecConsts, s int, groups uint) (failed uint)
//
// Registers: DI k, R8 c (hhVK), R9 k.rhs, BX groups, R10 dim*ROW, R12 the
// argument's rows (k.y for s = 0, else k.tmp), R13 &k.ks[s], DX the
// group's byte offset 32g, AX the groups not yet visited (shifted).
TEXT ·hhStageAVX(SB), NOSPLIT, $0-40
	MOVQ k+0(FP), DI
	MOVQ c+8(FP), R8
	MOVQ s+16(FP), CX
	MOVQ groups+24(FP), BX
	MOVQ hhRKF_rhs(DI), R9
	MOVQ $(4*ROW), R10
	MOVBQZX hhRKF_psc(DI), AX
	TESTQ AX, AX
	JZ   dimset
	MOVQ $(8*ROW), R10

dimset:
	MOVQ CX, R13
	SHLQ $10, R13
	LEAQ KS0(DI)(R13*1), R13
	LEAQ hhRKF_tmp(DI), R12
	CMPQ CX, $1
	JEQ  arg1
	CMPQ CX, $2
	JEQ  arg2
	CMPQ CX, $3
	JEQ  arg3
	CMPQ CX, $4
	JEQ  arg4
	CMPQ CX, $5
	JEQ  arg5
	LEAQ hhRKF_y(DI), R12 // s = 0: k1 = f(y)
	JMP  eval

// The arguments (hhRKF.args), every component of each group, into k.tmp:
// per group hs in Y15, per component CX its rows (k plus 32g plus c*ROW),
// the coefficients in Y10.. for the call. Stage 1: t = fma(a0*hs, k1, y).
arg1:
	MOVQ BX, AX
	XORQ DX, DX

arg1g:
	TESTQ $1, AX
	JZ    arg1n
	VMOVUPD hhRKF_hs(DI)(DX*1), Y15
	VMULPD  hhVecConsts_a0(R8), Y15, Y15
	LEAQ    (DI)(DX*1), CX
	LEAQ    (CX)(R10*1), R11

arg1c:
	VMOVUPD     KS0(CX), Y0
	VFMADD213PD hhRKF_y(CX), Y15, Y0
	VMOVUPD     Y0, hhRKF_tmp(CX)
	ADDQ        $ROW, CX
	CMPQ        CX, R11
	JNE         arg1c

arg1n:
	ADDQ $32, DX
	SHRQ $1, AX
	JNZ  arg1g
	JMP  eval

// Stage 2: t = fma(hs, fma(b31, k2, b30*k1), y).
arg2:
	VMOVUPD hhVecConsts_b30(R8), Y10
	VMOVUPD hhVecConsts_b31(R8), Y11
	MOVQ    BX, AX
	XORQ    DX, DX

arg2g:
	TESTQ $1, AX
	JZ    arg2n
	VMOVUPD hhRKF_hs(DI)(DX*1), Y15
	LEAQ    (DI)(DX*1), CX
	LEAQ    (CX)(R10*1), R11

arg2c:
	VMULPD      KS0(CX), Y10, Y0
	VFMADD231PD KS1(CX), Y11, Y0
	VFMADD213PD hhRKF_y(CX), Y15, Y0
	VMOVUPD     Y0, hhRKF_tmp(CX)
	ADDQ        $ROW, CX
	CMPQ        CX, R11
	JNE         arg2c

arg2n:
	ADDQ $32, DX
	SHRQ $1, AX
	JNZ  arg2g
	JMP  eval

// Stage 3: d = fma(b41, k2, b40*k1), d = fma(b42, k3, d), t = fma(hs, d, y).
arg3:
	VMOVUPD hhVecConsts_b40(R8), Y10
	VMOVUPD hhVecConsts_b41(R8), Y11
	VMOVUPD hhVecConsts_b42(R8), Y12
	MOVQ    BX, AX
	XORQ    DX, DX

arg3g:
	TESTQ $1, AX
	JZ    arg3n
	VMOVUPD hhRKF_hs(DI)(DX*1), Y15
	LEAQ    (DI)(DX*1), CX
	LEAQ    (CX)(R10*1), R11

arg3c:
	VMULPD      KS0(CX), Y10, Y0
	VFMADD231PD KS1(CX), Y11, Y0
	VFMADD231PD KS2(CX), Y12, Y0
	VFMADD213PD hhRKF_y(CX), Y15, Y0
	VMOVUPD     Y0, hhRKF_tmp(CX)
	ADDQ        $ROW, CX
	CMPQ        CX, R11
	JNE         arg3c

arg3n:
	ADDQ $32, DX
	SHRQ $1, AX
	JNZ  arg3g
	JMP  eval

// Stage 4: the same with b50..b53 and k1..k4.
arg4:
	VMOVUPD hhVecConsts_b50(R8), Y10
	VMOVUPD hhVecConsts_b51(R8), Y11
	VMOVUPD hhVecConsts_b52(R8), Y12
	VMOVUPD hhVecConsts_b53(R8), Y13
	MOVQ    BX, AX
	XORQ    DX, DX

arg4g:
	TESTQ $1, AX
	JZ    arg4n
	VMOVUPD hhRKF_hs(DI)(DX*1), Y15
	LEAQ    (DI)(DX*1), CX
	LEAQ    (CX)(R10*1), R11

arg4c:
	VMULPD      KS0(CX), Y10, Y0
	VFMADD231PD KS1(CX), Y11, Y0
	VFMADD231PD KS2(CX), Y12, Y0
	VFMADD231PD KS3(CX), Y13, Y0
	VFMADD213PD hhRKF_y(CX), Y15, Y0
	VMOVUPD     Y0, hhRKF_tmp(CX)
	ADDQ        $ROW, CX
	CMPQ        CX, R11
	JNE         arg4c

arg4n:
	ADDQ $32, DX
	SHRQ $1, AX
	JNZ  arg4g
	JMP  eval

// Stage 5 (k6): b60..b64 and k1..k5.
arg5:
	VMOVUPD hhVecConsts_b60(R8), Y10
	VMOVUPD hhVecConsts_b61(R8), Y11
	VMOVUPD hhVecConsts_b62(R8), Y12
	VMOVUPD hhVecConsts_b63(R8), Y13
	VMOVUPD hhVecConsts_b64(R8), Y14
	MOVQ    BX, AX
	XORQ    DX, DX

arg5g:
	TESTQ $1, AX
	JZ    arg5n
	VMOVUPD hhRKF_hs(DI)(DX*1), Y15
	LEAQ    (DI)(DX*1), CX
	LEAQ    (CX)(R10*1), R11

arg5c:
	VMULPD      KS0(CX), Y10, Y0
	VFMADD231PD KS1(CX), Y11, Y0
	VFMADD231PD KS2(CX), Y12, Y0
	VFMADD231PD KS3(CX), Y13, Y0
	VFMADD231PD KS4(CX), Y14, Y0
	VFMADD213PD hhRKF_y(CX), Y15, Y0
	VMOVUPD     Y0, hhRKF_tmp(CX)
	ADDQ        $ROW, CX
	CMPQ        CX, R11
	JNE         arg5c

arg5n:
	ADDQ $32, DX
	SHRQ $1, AX
	JNZ  arg5g

// The right-hand side (evalLanes, hhRHS.core, hhRKF.put) of each group,
// from the argument at R12 into k.ks[s]. CX collects the failed groups.
eval:
	XORQ CX, CX
	MOVQ BX, AX
	XORQ DX, DX

evalg:
	TESTQ $1, AX
	JZ    evaln
	LEAQ  (R12)(DX*1), SI // the argument's rows of the group
	VMOVUPD (SI), Y0      // V

	// core's range tests, all before any work: a = (V+65) (-1/720) in
	// [hhExpLo, hhExpHi] (else math.Exp), and sm = (V+40) 0.1 and sn =
	// (V+55) 0.1 with sm*sm, sn*sn >= 1e-4 (else hhAlpha's series).
	VADDPD    hhVecConsts_c65(R8), Y0, Y4
	VMULPD    hhVecConsts_c720(R8), Y4, Y4
	VCMPPD    $GE, hhVecConsts_lo(R8), Y4, Y5
	VCMPPD    $LE, hhVecConsts_hi(R8), Y4, Y6
	VANDPD    Y6, Y5, Y5
	VADDPD    hhVecConsts_c40(R8), Y0, Y6
	VMULPD    hhVecConsts_c01(R8), Y6, Y6 // sm
	VMULPD    Y6, Y6, Y7
	VCMPPD    $GE, hhVecConsts_sing(R8), Y7, Y7
	VANDPD    Y7, Y5, Y5
	VADDPD    hhVecConsts_c55(R8), Y0, Y13
	VMULPD    hhVecConsts_c01(R8), Y13, Y13 // sn
	VMULPD    Y13, Y13, Y7
	VCMPPD    $GE, hhVecConsts_sing(R8), Y7, Y7
	VANDPD    Y7, Y5, Y5
	VMOVMSKPD Y5, R11
	CMPQ      R11, $15
	JNE       evalfail

	// hhExpPoly: t = a + 0.07, Estrin's scheme in t.
	VADDPD      hhVecConsts_c007(R8), Y4, Y4 // t
	VMULPD      Y4, Y4, Y7                   // t2
	VMULPD      Y7, Y7, Y8                   // t4
	VMOVUPD     hhVecConsts_p0(R8), Y9
	VFMADD213PD hhVecConsts_p1(R8), Y4, Y9   // q01 = fma(p0, t, p1)
	VMOVUPD     hhVecConsts_p2(R8), Y10
	VFMADD213PD hhVecConsts_p3(R8), Y4, Y10  // q23
	VMOVUPD     hhVecConsts_p4(R8), Y11
	VFMADD213PD hhVecConsts_p5(R8), Y4, Y11  // q45
	VMOVUPD     hhVecConsts_p6(R8), Y12
	VFMADD213PD hhVecConsts_p7(R8), Y4, Y12  // q67
	VFMADD213PD Y11, Y7, Y12                 // fma(t2, q67, q45)
	VFMADD213PD Y9, Y7, Y10                  // fma(t2, q23, q01)
	VFMADD213PD Y10, Y8, Y12                 // fma(t4, ., .)
	VFMADD213PD hhVecConsts_p8(R8), Y4, Y12  // b = fma(t, ., p8)

	// hhPowers: b72 = exp(-(V+65)/10) and the betas, negated.
	VMULPD Y12, Y12, Y4                      // b2
	VMULPD Y4, Y4, Y7                        // b4
	VMULPD Y7, Y7, Y8                        // b8
	VMULPD Y8, Y8, Y9                        // b16
	VMULPD Y9, Y9, Y9                        // b32
	VMULPD Y7, Y9, Y10                       // b36 = b32 b4
	VMULPD Y10, Y10, Y11                     // b72
	VMULPD Y8, Y9, Y9                        // b32 b8
	VMULPD hhVecConsts_neg4(R8), Y9, Y9      // nbm = -4 (b32 b8)
	VMULPD hhVecConsts_c007(R8), Y10, Y10    // ah = 0.07 b36
	VMULPD Y12, Y8, Y8                       // b8 b
	VMULPD hhVecConsts_negEighth(R8), Y8, Y8 // nbn = -0.125 (b8 b)

	// nbh = -1/(1 + b72 e^3); am = sm/(1 - b72 e^2.5);
	// an = 0.1 (sn/(1 - b72 e)).
	VMULPD  hhVecConsts_exp3(R8), Y11, Y4
	VADDPD  hhVecConsts_one(R8), Y4, Y4
	VMOVUPD hhVecConsts_negOne(R8), Y7
	VDIVPD  Y4, Y7, Y7                      // nbh
	VMOVUPD hhVecConsts_one(R8), Y12
	VMULPD  hhVecConsts_exp25(R8), Y11, Y4
	VSUBPD  Y4, Y12, Y4
	VDIVPD  Y4, Y6, Y6                      // am
	VMULPD  hhVecConsts_expE(R8), Y11, Y4
	VSUBPD  Y4, Y12, Y4
	VDIVPD  Y4, Y13, Y13
	VMULPD  hhVecConsts_c01(R8), Y13, Y13   // an

	// hhGate: fma(alpha, 1-x, nbeta*x) for m, h, n, into ks[s].
	VMOVUPD     ROW(SI), Y1   // m
	VMOVUPD     2*ROW(SI), Y2 // h
	VMOVUPD     3*ROW(SI), Y3 // n
	LEAQ        (R13)(DX*1), R11
	VSUBPD      Y1, Y12, Y4
	VMULPD      Y1, Y9, Y9
	VFMADD231PD Y4, Y6, Y9
	VMOVUPD     Y9, ROW(R11)
	VSUBPD      Y2, Y12, Y4
	VMULPD      Y2, Y7, Y7
	VFMADD231PD Y4, Y10, Y7
	VMOVUPD     Y7, 2*ROW(R11)
	VSUBPD      Y3, Y12, Y4
	VMULPD      Y3, Y8, Y8
	VFMADD231PD Y4, Y13, Y8
	VMOVUPD     Y8, 3*ROW(R11)

	// current: in - fma(gL, V-eL, iNa + iK), iNa = gNa m m m h (V-eNa)
	// left to right, iK = gK (n2 n2) (V-eK).
	VMOVUPD     GNA(R9), Y4
	VMULPD      Y1, Y4, Y4
	VMULPD      Y1, Y4, Y4
	VMULPD      Y1, Y4, Y4
	VMULPD      Y2, Y4, Y4
	VSUBPD      ENA(R9), Y0, Y5
	VMULPD      Y5, Y4, Y4 // iNa
	VMULPD      Y3, Y3, Y3
	VMULPD      Y3, Y3, Y3
	VMULPD      GK(R9), Y3, Y6
	VSUBPD      EK(R9), Y0, Y5
	VMULPD      Y5, Y6, Y6 // iK
	VADDPD      Y6, Y4, Y4
	VSUBPD      EL(R9), Y0, Y5
	VFMADD231PD GL(R9), Y5, Y4
	VMOVUPD     hhRKF_in(DI)(DX*1), Y5
	VSUBPD      Y4, Y5, Y5 // num
	CMPQ        R10, $(8*ROW)
	JEQ         evalpsc
	VMULPD      INVCM(R9), Y5, Y5
	VMOVUPD     Y5, (R11)
	JMP         evaln

	// hhRKF.put's PSC terms: dV = (num + iE + iI)/c_m, dIe' = -dIe/tauE,
	// iE' = dIe - iE/tauE, the same for the inhibitory pair.
evalpsc:
	VMOVUPD 4*ROW(SI), Y1 // dIe
	VMOVUPD 5*ROW(SI), Y2 // iE
	VMOVUPD 6*ROW(SI), Y3 // dIi
	VMOVUPD 7*ROW(SI), Y4 // iI
	VADDPD  Y2, Y5, Y5
	VADDPD  Y4, Y5, Y5
	VMULPD  INVCM(R9), Y5, Y5
	VMOVUPD Y5, (R11)
	VXORPD  hhVecConsts_sign(R8), Y1, Y6
	VMULPD  INVTAUE(R9), Y6, Y6
	VMOVUPD Y6, 4*ROW(R11)
	VMULPD  INVTAUE(R9), Y2, Y7
	VSUBPD  Y7, Y1, Y7
	VMOVUPD Y7, 5*ROW(R11)
	VXORPD  hhVecConsts_sign(R8), Y3, Y6
	VMULPD  INVTAUI(R9), Y6, Y6
	VMOVUPD Y6, 6*ROW(R11)
	VMULPD  INVTAUI(R9), Y4, Y7
	VSUBPD  Y7, Y3, Y7
	VMOVUPD Y7, 7*ROW(R11)

evaln:
	ADDQ $32, DX
	SHRQ $1, AX
	JNZ  evalg
	VZEROUPPER
	MOVQ CX, failed+32(FP)
	RET

evalfail:
	MOVQ DX, R11
	SHRQ $5, R11
	BTSQ R11, CX
	JMP  evaln

// INVROOT_SPLIT starts rkfInvRoot5 or rkfInvRoot6 of Y14 (positive,
// normal) with the constants at R9 (hhRootVec): r = m 2^(n q + f), the
// exponent's integer arithmetic done exactly in float64. Out: Y1 = m,
// Y5 = 2^(-f/n), Y6 = 2^(-q), Y7 = the quartic's z.
#define INVROOT_SPLIT \
	VANDPD   hhVecConsts_mant(R8), Y14, Y1; \
	VORPD    hhVecConsts_oneBits(R8), Y1, Y1; \
	VPSRLQ   $52, Y14, Y2; \
	VPOR     hhVecConsts_twoP52(R8), Y2, Y2; \
	VSUBPD   hhVecConsts_expOff(R8), Y2, Y2; \
	VDIVPD   hhRootVec_n(R9), Y2, Y3; \
	VROUNDPD $1, Y3, Y3; \
	VMULPD   hhRootVec_n(R9), Y3, Y4; \
	VSUBPD   Y4, Y2, Y4; \
	VMOVUPD  hhRootVec_roots+0(R9), Y5; \
	VCMPPD   $EQ, hhRootVec_js+32(R9), Y4, Y6; \
	VBLENDVPD Y6, hhRootVec_roots+32(R9), Y5, Y5; \
	VCMPPD   $EQ, hhRootVec_js+64(R9), Y4, Y6; \
	VBLENDVPD Y6, hhRootVec_roots+64(R9), Y5, Y5; \
	VCMPPD   $EQ, hhRootVec_js+96(R9), Y4, Y6; \
	VBLENDVPD Y6, hhRootVec_roots+96(R9), Y5, Y5; \
	VCMPPD   $EQ, hhRootVec_js+128(R9), Y4, Y6; \
	VBLENDVPD Y6, hhRootVec_roots+128(R9), Y5, Y5; \
	VCMPPD   $EQ, hhRootVec_js+160(R9), Y4, Y6; \
	VBLENDVPD Y6, hhRootVec_roots+160(R9), Y5, Y5; \
	VMOVUPD  hhVecConsts_expOff(R8), Y6; \
	VSUBPD   Y3, Y6, Y6; \
	VANDPD   hhVecConsts_bits11(R8), Y6, Y6; \
	VPSLLQ   $52, Y6, Y6; \
	VMULPD   hhRootVec_quart+0(R9), Y1, Y7; \
	VSUBPD   hhRootVec_quart+32(R9), Y7, Y7; \
	VMULPD   Y1, Y7, Y7; \
	VADDPD   hhRootVec_quart+64(R9), Y7, Y7; \
	VMULPD   Y1, Y7, Y7; \
	VSUBPD   hhRootVec_quart+96(R9), Y7, Y7; \
	VMULPD   Y1, Y7, Y7; \
	VADDPD   hhRootVec_quart+128(R9), Y7, Y7

// NEWTON_TAIL: z += z (1 - m w) (1/n), w = z^n in Y8.
#define NEWTON_TAIL \
	VMULPD  Y8, Y1, Y8; \
	VMOVUPD hhVecConsts_one(R8), Y9; \
	VSUBPD  Y8, Y9, Y8; \
	VMULPD  Y8, Y7, Y8; \
	VMULPD  hhRootVec_inv(R9), Y8, Y8; \
	VADDPD  Y8, Y7, Y7

// NEWTON5: w = (z2 z2) z.
#define NEWTON5 \
	VMULPD Y7, Y7, Y8; \
	VMULPD Y8, Y8, Y8; \
	VMULPD Y7, Y8, Y8; \
	NEWTON_TAIL

// NEWTON6: w = z3 z3, z3 = (z z) z.
#define NEWTON6 \
	VMULPD Y7, Y7, Y8; \
	VMULPD Y7, Y8, Y8; \
	VMULPD Y8, Y8, Y8; \
	NEWTON_TAIL

// INVROOT_END: z 2^(-f/n) 2^(-q) into Y0.
#define INVROOT_END \
	VMULPD Y5, Y7, Y7; \
	VMULPD Y6, Y7, Y0

// func hhSumsAVX(k *hhRKF, c *hhVecConsts, groups uint, dim int)
//
// Per group: hs in Y15, the largest |error| in Y14; per component CX its
// rows. The 5th-order sum d = c1 k1 + c3 k3 + ... fused from the left,
// ynew = fma(hs, d, y); the error e = hs (e1 k1 + e3 k3 + ...), the same
// way; VMAXPD |e|, emax keeps emax when |e| is NaN, as fehlberg's test.
TEXT ·hhSumsAVX(SB), NOSPLIT, $0-32
	MOVQ k+0(FP), DI
	MOVQ c+8(FP), R8
	MOVQ groups+16(FP), AX
	MOVQ dim+24(FP), R10
	SHLQ $7, R10 // dim*ROW
	XORQ DX, DX

sumg:
	TESTQ $1, AX
	JZ    sumn
	LEAQ  (DI)(DX*1), SI
	VMOVUPD hhRKF_hs(SI), Y15
	VXORPD  Y14, Y14, Y14
	MOVQ    SI, CX
	LEAQ    (SI)(R10*1), R11

sumc:
	VMOVUPD     KS0(CX), Y0
	VMOVUPD     KS2(CX), Y1
	VMOVUPD     KS3(CX), Y2
	VMOVUPD     KS4(CX), Y3
	VMOVUPD     KS5(CX), Y4
	VMULPD      hhVecConsts_c1(R8), Y0, Y5
	VFMADD231PD hhVecConsts_c3(R8), Y1, Y5
	VFMADD231PD hhVecConsts_c4(R8), Y2, Y5
	VFMADD231PD hhVecConsts_c5(R8), Y3, Y5
	VFMADD231PD hhVecConsts_c6(R8), Y4, Y5
	VFMADD213PD hhRKF_y(CX), Y15, Y5
	VMOVUPD     Y5, hhRKF_ynew(CX)
	VMULPD      hhVecConsts_e1(R8), Y0, Y6
	VFMADD231PD hhVecConsts_e3(R8), Y1, Y6
	VFMADD231PD hhVecConsts_e4(R8), Y2, Y6
	VFMADD231PD hhVecConsts_e5(R8), Y3, Y6
	VFMADD231PD hhVecConsts_e6(R8), Y4, Y6
	VMULPD      Y15, Y6, Y6
	VANDPD      hhVecConsts_abs(R8), Y6, Y6
	VMAXPD      Y14, Y6, Y14
	ADDQ        $ROW, CX
	CMPQ        CX, R11
	JNE         sumc

	// rkfControl's rmax = max(emax/eps_abs, DBL_MIN) and its roots:
	// inv5 only for a group with a lane to shrink (rmax > 1.1).
	VMOVUPD   Y14, hhRKF_emax(SI)
	VDIVPD    hhVecConsts_epsAbs(R8), Y14, Y14
	VMAXPD    hhVecConsts_dblMin(R8), Y14, Y14
	VMOVUPD   Y14, hhRKF_rmax(SI)
	VCMPPD    $GT, hhVecConsts_shrink(R8), Y14, Y0
	VMOVMSKPD Y0, BX
	TESTQ     BX, BX
	JZ        sumroot6
	LEAQ      hhVecConsts_root5(R8), R9
	INVROOT_SPLIT
	NEWTON5
	NEWTON5
	INVROOT_END
	VMOVUPD   Y0, hhRKF_inv5(SI)

sumroot6:
	LEAQ    hhVecConsts_root6(R8), R9
	INVROOT_SPLIT
	NEWTON6
	NEWTON6
	INVROOT_END
	VMOVUPD Y0, hhRKF_inv6(SI)

sumn:
	ADDQ $32, DX
	SHRQ $1, AX
	JNZ  sumg
	VZEROUPPER
	RET

// func hhInvRootsAVX(c *hhVecConsts, r, inv5, inv6 *[4]float64)
TEXT ·hhInvRootsAVX(SB), NOSPLIT, $0-32
	MOVQ    c+0(FP), R8
	MOVQ    r+8(FP), AX
	VMOVUPD (AX), Y14
	LEAQ    hhVecConsts_root5(R8), R9
	INVROOT_SPLIT
	NEWTON5
	NEWTON5
	INVROOT_END
	MOVQ    inv5+16(FP), AX
	VMOVUPD Y0, (AX)
	LEAQ    hhVecConsts_root6(R8), R9
	INVROOT_SPLIT
	NEWTON6
	NEWTON6
	INVROOT_END
	MOVQ    inv6+24(FP), AX
	VMOVUPD Y0, (AX)
	VZEROUPPER
	RET
