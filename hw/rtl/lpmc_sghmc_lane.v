// lpmc_sghmc_lane: one coordinate of one SGHMC lp-l step of lpmc's integer datapath on a
// Gaussian target (the exact integrator of Cheng et al. 2018), combinational; the bit-exact
// twin of lpmc_kernels::rules::sghmc with the gradient stage of lpmc_grad_gauss
// (docs/hardware.md).
//
//   grad    = Q_G(prec * (x - mean))                                      (lpmc_grad_gauss)
//   accum_v = A(al(c0*v, CFl+VFl) + al(c1*grad, CFl+GFl) + al(c4*noise1, CFl+NFl))
//   accum_x = A(al(x, XFl) + al(c2*v, CFl+VFl) + al(c3*grad, CFl+GFl)
//               + al(c5*noise1, CFl+NFl) + al(c6*noise2, CFl+NFl))        (the old v)
//   v_o     = Q_V(accum_v) (rand_v),  x_o = Q_W(accum_x) (rand_x)
//
// al brings a term to the accumulator's AFl fraction bits (lpmc_align); the sums are exact,
// then A is the accumulator's overflow rule (WrapA) into AWl bits. c0..c6 =
// [e, c_vg, c_xv, c_xg, n_v, n_xv, n_x] are coef codes Q(CWl, CFl); noise1 and noise2 are
// noise codes Q(NWl, NFl); x and mean are Q(XWl, XFl), v is Q(VWl, VFl).
module lpmc_sghmc_lane #(
  parameter integer XWl = 8,  parameter integer XFl = 5,
  parameter integer VWl = 8,  parameter integer VFl = 5,
  parameter integer GWl = 8,  parameter integer GFl = 5,
  parameter integer NWl = 8,  parameter integer NFl = 5,
  parameter integer CWl = 16, parameter integer CFl = 14,
  parameter integer AWl = 32, parameter integer AFl = 24,
  parameter integer Mode = 4, parameter integer R = 8,
  parameter integer WrapX = 0, parameter integer WrapV = 0,
  parameter integer WrapG = 0, parameter integer WrapA = 0,
  // Derived, do not override: the random bits' port widths.
  parameter integer ShiftG  = CFl + XFl - GFl,
  parameter integer RBitsG  = (Mode == 5) ? ((ShiftG > 0) ? ShiftG : 0)
                            : ((Mode == 4 || Mode == 6) ? R : 0),
  parameter integer RandGWl = (RBitsG > 0) ? RBitsG : 1,
  parameter integer ShiftV  = AFl - VFl,
  parameter integer RBitsV  = (Mode == 5) ? ((ShiftV > 0) ? ShiftV : 0)
                            : ((Mode == 4 || Mode == 6) ? R : 0),
  parameter integer RandVWl = (RBitsV > 0) ? RBitsV : 1,
  parameter integer ShiftX  = AFl - XFl,
  parameter integer RBitsX  = (Mode == 5) ? ((ShiftX > 0) ? ShiftX : 0)
                            : ((Mode == 4 || Mode == 6) ? R : 0),
  parameter integer RandXWl = (RBitsX > 0) ? RBitsX : 1
) (
  input  wire [XWl-1:0]     x_i,
  input  wire [VWl-1:0]     v_i,
  input  wire [XWl-1:0]     mean_i,
  input  wire [CWl-1:0]     prec_i,
  input  wire [7*CWl-1:0]   coefs_i,      // c_j in bits [j*CWl +: CWl]
  input  wire [NWl-1:0]     noise1_i,
  input  wire [NWl-1:0]     noise2_i,
  input  wire [RandGWl-1:0] rand_grad_i,
  input  wire [RandVWl-1:0] rand_v_i,
  input  wire [RandXWl-1:0] rand_x_i,
  output wire [GWl-1:0]     grad_o,
  output wire               grad_overflow_o,
  output wire [AWl-1:0]     accum_v_o,
  output wire [AWl-1:0]     accum_x_o,
  output wire               accum_v_overflow_o,
  output wire               accum_x_overflow_o,
  output wire [VWl-1:0]     v_o,
  output wire               v_overflow_o,
  output wire [XWl-1:0]     x_o,
  output wire               x_overflow_o
);
  localparam integer Lx = (AFl > XFl) ? AFl - XFl : 0;
  localparam integer Lv = (AFl > CFl + VFl) ? AFl - CFl - VFl : 0;
  localparam integer Lg = (AFl > CFl + GFl) ? AFl - CFl - GFl : 0;
  localparam integer Ln = (AFl > CFl + NFl) ? AFl - CFl - NFl : 0;
  localparam integer M1 = ((XWl + Lx) > (CWl + VWl + Lv)) ? (XWl + Lx) : (CWl + VWl + Lv);
  localparam integer M2 = (M1 > (CWl + GWl + Lg)) ? M1 : (CWl + GWl + Lg);
  localparam integer M3 = (M2 > (CWl + NWl + Ln)) ? M2 : (CWl + NWl + Ln);
  localparam integer SW = ((M3 > AWl) ? M3 : AWl) + 3;  // holds the exact five-term sum

  lpmc_grad_gauss #(
    .XWl(XWl), .XFl(XFl), .CWl(CWl), .CFl(CFl), .GWl(GWl), .GFl(GFl),
    .Mode(Mode), .R(R), .Wrap(WrapG)
  ) u_grad (
    .x_i(x_i), .mean_i(mean_i), .prec_i(prec_i), .rand_i(rand_grad_i),
    .grad_o(grad_o), .overflow_o(grad_overflow_o)
  );

  wire signed [CWl-1:0] c [0:6];
  genvar j;
  generate
    for (j = 0; j < 7; j = j + 1) begin : g_coef
      assign c[j] = coefs_i[j*CWl +: CWl];
    end
  endgenerate
  wire signed [VWl-1:0] v = v_i;
  wire signed [GWl-1:0] g = grad_o;
  wire signed [NWl-1:0] n1 = noise1_i;
  wire signed [NWl-1:0] n2 = noise2_i;
  wire signed [CWl+VWl-1:0] p_ev  = c[0] * v;
  wire signed [CWl+GWl-1:0] p_vg  = c[1] * g;
  wire signed [CWl+VWl-1:0] p_xv  = c[2] * v;
  wire signed [CWl+GWl-1:0] p_xg  = c[3] * g;
  wire signed [CWl+NWl-1:0] p_nv  = c[4] * n1;
  wire signed [CWl+NWl-1:0] p_nxv = c[5] * n1;
  wire signed [CWl+NWl-1:0] p_nx  = c[6] * n2;
  wire signed [SW-1:0] t_ev, t_vg, t_x, t_xv, t_xg, t_nv, t_nxv, t_nx;
  lpmc_align #(.InWl(CWl + VWl), .InFl(CFl + VFl), .OutFl(AFl), .OutWl(SW)) u_a0 (.in_i(p_ev), .out_o(t_ev));
  lpmc_align #(.InWl(CWl + GWl), .InFl(CFl + GFl), .OutFl(AFl), .OutWl(SW)) u_a1 (.in_i(p_vg), .out_o(t_vg));
  lpmc_align #(.InWl(XWl), .InFl(XFl), .OutFl(AFl), .OutWl(SW)) u_a2 (.in_i(x_i), .out_o(t_x));
  lpmc_align #(.InWl(CWl + VWl), .InFl(CFl + VFl), .OutFl(AFl), .OutWl(SW)) u_a3 (.in_i(p_xv), .out_o(t_xv));
  lpmc_align #(.InWl(CWl + GWl), .InFl(CFl + GFl), .OutFl(AFl), .OutWl(SW)) u_a4 (.in_i(p_xg), .out_o(t_xg));
  lpmc_align #(.InWl(CWl + NWl), .InFl(CFl + NFl), .OutFl(AFl), .OutWl(SW)) u_a5 (.in_i(p_nv), .out_o(t_nv));
  lpmc_align #(.InWl(CWl + NWl), .InFl(CFl + NFl), .OutFl(AFl), .OutWl(SW)) u_a6 (.in_i(p_nxv), .out_o(t_nxv));
  lpmc_align #(.InWl(CWl + NWl), .InFl(CFl + NFl), .OutFl(AFl), .OutWl(SW)) u_a7 (.in_i(p_nx), .out_o(t_nx));
  wire signed [SW-1:0] sum_v = t_ev + t_vg + t_nv;
  wire signed [SW-1:0] sum_x = t_x + t_xv + t_xg + t_nxv + t_nx;

  // The accumulator's overflow rule: a requantize with no discarded bit.
  lpmc_requantize #(
    .InWl(SW), .InFl(AFl), .OutWl(AWl), .OutFl(AFl), .Mode(2), .R(0), .Wrap(WrapA)
  ) u_acc_v (
    .in_i(sum_v), .rand_i(1'b0), .out_o(accum_v_o), .overflow_o(accum_v_overflow_o)
  );
  lpmc_requantize #(
    .InWl(SW), .InFl(AFl), .OutWl(AWl), .OutFl(AFl), .Mode(2), .R(0), .Wrap(WrapA)
  ) u_acc_x (
    .in_i(sum_x), .rand_i(1'b0), .out_o(accum_x_o), .overflow_o(accum_x_overflow_o)
  );

  lpmc_requantize #(
    .InWl(AWl), .InFl(AFl), .OutWl(VWl), .OutFl(VFl), .Mode(Mode), .R(R), .Wrap(WrapV)
  ) u_qv (
    .in_i(accum_v_o), .rand_i(rand_v_i), .out_o(v_o), .overflow_o(v_overflow_o)
  );
  lpmc_requantize #(
    .InWl(AWl), .InFl(AFl), .OutWl(XWl), .OutFl(XFl), .Mode(Mode), .R(R), .Wrap(WrapX)
  ) u_qw (
    .in_i(accum_x_o), .rand_i(rand_x_i), .out_o(x_o), .overflow_o(x_overflow_o)
  );
endmodule
