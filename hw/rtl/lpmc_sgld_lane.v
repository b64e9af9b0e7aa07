// lpmc_sgld_lane: one coordinate of one SGLD lp-l step of lpmc's integer datapath on a
// Gaussian target, combinational; the bit-exact twin of lpmc_kernels::rules::sgld with the
// gradient stage of lpmc_grad_gauss (docs/hardware.md).
//
//   grad    = Q_G(prec * (x - mean))                              (lpmc_grad_gauss)
//   accum   = A(align(x, XFl) - align(c0 * grad, CFl + GFl) + align(c1 * noise, CFl + NFl))
//   x_o     = Q_W(accum)                                          (lpmc_requantize, rand_x)
//
// align brings a term to the accumulator's AFl fraction bits (lpmc_align); the sum is exact,
// then A is the accumulator's overflow rule (WrapA) into AWl bits. c0 = eta and
// c1 = sqrt(2 eta)/s_n are coef codes Q(CWl, CFl); noise is a noise code Q(NWl, NFl) from a
// noise unit (lpmc_noise_clt, lpmc_noise_table) or any source; x and mean are Q(XWl, XFl).
// Every rounding (Mode, R as in lpmc_requantize) uses the step's rounding; the flags report
// each overflow rule's change.
module lpmc_sgld_lane #(
  parameter integer XWl = 8,  parameter integer XFl = 5,
  parameter integer GWl = 8,  parameter integer GFl = 5,
  parameter integer NWl = 8,  parameter integer NFl = 5,
  parameter integer CWl = 16, parameter integer CFl = 14,
  parameter integer AWl = 32, parameter integer AFl = 24,
  parameter integer Mode = 4, parameter integer R = 8,
  parameter integer WrapX = 0, parameter integer WrapG = 0, parameter integer WrapA = 0,
  // Derived, do not override: the random bits' port widths.
  parameter integer ShiftG  = CFl + XFl - GFl,
  parameter integer RBitsG  = (Mode == 5) ? ((ShiftG > 0) ? ShiftG : 0)
                            : ((Mode == 4 || Mode == 6) ? R : 0),
  parameter integer RandGWl = (RBitsG > 0) ? RBitsG : 1,
  parameter integer ShiftX  = AFl - XFl,
  parameter integer RBitsX  = (Mode == 5) ? ((ShiftX > 0) ? ShiftX : 0)
                            : ((Mode == 4 || Mode == 6) ? R : 0),
  parameter integer RandXWl = (RBitsX > 0) ? RBitsX : 1
) (
  input  wire [XWl-1:0]     x_i,
  input  wire [XWl-1:0]     mean_i,
  input  wire [CWl-1:0]     prec_i,
  input  wire [2*CWl-1:0]   coefs_i,      // c0 in bits [0 +: CWl], c1 in [CWl +: CWl]
  input  wire [NWl-1:0]     noise_i,
  input  wire [RandGWl-1:0] rand_grad_i,
  input  wire [RandXWl-1:0] rand_x_i,
  output wire [GWl-1:0]     grad_o,
  output wire               grad_overflow_o,
  output wire [AWl-1:0]     accum_o,
  output wire               accum_overflow_o,
  output wire [XWl-1:0]     x_o,
  output wire               x_overflow_o
);
  localparam integer Lx = (AFl > XFl) ? AFl - XFl : 0;
  localparam integer Lg = (AFl > CFl + GFl) ? AFl - CFl - GFl : 0;
  localparam integer Ln = (AFl > CFl + NFl) ? AFl - CFl - NFl : 0;
  localparam integer M1 = ((XWl + Lx) > (CWl + GWl + Lg)) ? (XWl + Lx) : (CWl + GWl + Lg);
  localparam integer M2 = (M1 > (CWl + NWl + Ln)) ? M1 : (CWl + NWl + Ln);
  localparam integer SW = ((M2 > AWl) ? M2 : AWl) + 2;  // holds the exact three-term sum

  lpmc_grad_gauss #(
    .XWl(XWl), .XFl(XFl), .CWl(CWl), .CFl(CFl), .GWl(GWl), .GFl(GFl),
    .Mode(Mode), .R(R), .Wrap(WrapG)
  ) u_grad (
    .x_i(x_i), .mean_i(mean_i), .prec_i(prec_i), .rand_i(rand_grad_i),
    .grad_o(grad_o), .overflow_o(grad_overflow_o)
  );

  wire signed [CWl-1:0]     c0 = coefs_i[0 +: CWl];
  wire signed [CWl-1:0]     c1 = coefs_i[CWl +: CWl];
  wire signed [GWl-1:0]     g = grad_o;
  wire signed [NWl-1:0]     n = noise_i;
  wire signed [CWl+GWl-1:0] p_g = c0 * g;
  wire signed [CWl+NWl-1:0] p_n = c1 * n;
  wire signed [SW-1:0] t_x, t_g, t_n;
  lpmc_align #(.InWl(XWl), .InFl(XFl), .OutFl(AFl), .OutWl(SW)) u_ax (.in_i(x_i), .out_o(t_x));
  lpmc_align #(.InWl(CWl + GWl), .InFl(CFl + GFl), .OutFl(AFl), .OutWl(SW)) u_ag (.in_i(p_g), .out_o(t_g));
  lpmc_align #(.InWl(CWl + NWl), .InFl(CFl + NFl), .OutFl(AFl), .OutWl(SW)) u_an (.in_i(p_n), .out_o(t_n));
  wire signed [SW-1:0] sum = t_x - t_g + t_n;

  // The accumulator's overflow rule: a requantize with no discarded bit.
  lpmc_requantize #(
    .InWl(SW), .InFl(AFl), .OutWl(AWl), .OutFl(AFl), .Mode(2), .R(0), .Wrap(WrapA)
  ) u_acc (
    .in_i(sum), .rand_i(1'b0), .out_o(accum_o), .overflow_o(accum_overflow_o)
  );

  lpmc_requantize #(
    .InWl(AWl), .InFl(AFl), .OutWl(XWl), .OutFl(XFl), .Mode(Mode), .R(R), .Wrap(WrapX)
  ) u_qw (
    .in_i(accum_o), .rand_i(rand_x_i), .out_o(x_o), .overflow_o(x_overflow_o)
  );
endmodule
