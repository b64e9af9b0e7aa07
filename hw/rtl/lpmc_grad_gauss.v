// lpmc_grad_gauss: the gradient stage of lpmc's integer datapath on a Gaussian target,
// combinational: grad_o = Q_G(prec_i * (x_i - mean_i)), the exact product (a code with
// CFl + XFl fraction bits) rounded to Q(GWl, GFl) by lpmc_requantize with the rounding's
// random bits rand_i, then the grad format's overflow rule (Wrap); overflow_o flags it.
// x_i and mean_i are codes of one format Q(XWl, XFl), prec_i a coef code Q(CWl, CFl).
module lpmc_grad_gauss #(
  parameter integer XWl  = 8,
  parameter integer XFl  = 5,
  parameter integer CWl  = 16,
  parameter integer CFl  = 12,
  parameter integer GWl  = 8,
  parameter integer GFl  = 5,
  parameter integer Mode = 4,
  parameter integer R    = 8,
  parameter integer Wrap = 0,
  // Derived, do not override: the product's width and the random bits' port width.
  parameter integer PWl    = CWl + XWl + 1,
  parameter integer Shift  = CFl + XFl - GFl,
  parameter integer RBits  = (Mode == 5) ? ((Shift > 0) ? Shift : 0)
                           : ((Mode == 4 || Mode == 6) ? R : 0),
  parameter integer RandWl = (RBits > 0) ? RBits : 1
) (
  input  wire [XWl-1:0]    x_i,
  input  wire [XWl-1:0]    mean_i,
  input  wire [CWl-1:0]    prec_i,
  input  wire [RandWl-1:0] rand_i,
  output wire [GWl-1:0]    grad_o,
  output wire              overflow_o
);
  wire signed [XWl-1:0] x = x_i;
  wire signed [XWl-1:0] mean = mean_i;
  wire signed [CWl-1:0] prec = prec_i;
  wire signed [XWl:0]   diff = {x[XWl-1], x} - {mean[XWl-1], mean};
  wire signed [PWl-1:0] prod = prec * diff;

  lpmc_requantize #(
    .InWl(PWl), .InFl(CFl + XFl), .OutWl(GWl), .OutFl(GFl),
    .Mode(Mode), .R(R), .Wrap(Wrap)
  ) u_qg (
    .in_i(prod), .rand_i(rand_i), .out_o(grad_o), .overflow_o(overflow_o)
  );
endmodule
