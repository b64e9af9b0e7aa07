// tb_sgld_step: replays a `lpmc vectors sgld-step` directory on lpmc_sgld_lane. The lane
// runs the chain itself: each coordinate's state register starts at x_in of step 0 and is
// then fed from the lane's own x_o, so every later x_in of the vectors is checked too. Per
// vector it compares x_in, grad, grad_overflow, accum_x, accum_overflows, x_out, x_overflow.
/* verilator lint_off WIDTH */
/* verilator lint_off BLKSEQ */
module tb_sgld_step #(
  parameter integer D = 1,
  parameter integer XWl = 8,  parameter integer XFl = 5,
  parameter integer GWl = 8,  parameter integer GFl = 5,
  parameter integer NWl = 8,  parameter integer NFl = 5,
  parameter integer CWl = 16, parameter integer CFl = 14,
  parameter integer AWl = 32, parameter integer AFl = 24,
  parameter integer Mode = 4, parameter integer R = 8,
  parameter integer WrapX = 0, parameter integer WrapG = 0, parameter integer WrapA = 0,
  parameter signed [63:0] C0 = 0,
  parameter signed [63:0] C1 = 0,
  parameter integer N = 1,
  parameter Dir = "."
) (
  output reg        done_o,
  output reg [31:0] mismatches_o
);
  localparam integer ShiftG  = CFl + XFl - GFl;
  localparam integer RBitsG  = (Mode == 5) ? ((ShiftG > 0) ? ShiftG : 0)
                             : ((Mode == 4 || Mode == 6) ? R : 0);
  localparam integer RandGWl = (RBitsG > 0) ? RBitsG : 1;
  localparam integer ShiftX  = AFl - XFl;
  localparam integer RBitsX  = (Mode == 5) ? ((ShiftX > 0) ? ShiftX : 0)
                             : ((Mode == 4 || Mode == 6) ? R : 0);
  localparam integer RandXWl = (RBitsX > 0) ? RBitsX : 1;

  reg [XWl-1:0]     x_in_m  [0:N-1];
  reg [CWl-1:0]     prec_m  [0:N-1];
  reg [XWl-1:0]     mean_m  [0:N-1];
  reg [RandGWl-1:0] rg_m    [0:N-1];
  reg [GWl-1:0]     grad_m  [0:N-1];
  reg               gov_m   [0:N-1];
  reg [NWl-1:0]     noise_m [0:N-1];
  reg [AWl-1:0]     acc_m   [0:N-1];
  reg               aov_m   [0:N-1];
  reg [RandXWl-1:0] rx_m    [0:N-1];
  reg [XWl-1:0]     x_out_m [0:N-1];
  reg               xov_m   [0:N-1];
  reg [XWl-1:0]     state   [0:D-1];

  reg  [XWl-1:0]     x_r, mean_r;
  reg  [CWl-1:0]     prec_r;
  reg  [NWl-1:0]     noise_r;
  reg  [RandGWl-1:0] rg_r;
  reg  [RandXWl-1:0] rx_r;
  wire [GWl-1:0]     grad_w;
  wire [AWl-1:0]     acc_w;
  wire [XWl-1:0]     x_w;
  wire               gov_w, aov_w, xov_w;
  wire [CWl-1:0]     c0 = C0[CWl-1:0];
  wire [CWl-1:0]     c1 = C1[CWl-1:0];

  lpmc_sgld_lane #(
    .XWl(XWl), .XFl(XFl), .GWl(GWl), .GFl(GFl), .NWl(NWl), .NFl(NFl),
    .CWl(CWl), .CFl(CFl), .AWl(AWl), .AFl(AFl), .Mode(Mode), .R(R),
    .WrapX(WrapX), .WrapG(WrapG), .WrapA(WrapA)
  ) dut (
    .x_i(x_r), .mean_i(mean_r), .prec_i(prec_r), .coefs_i({c1, c0}), .noise_i(noise_r),
    .rand_grad_i(rg_r), .rand_x_i(rx_r),
    .grad_o(grad_w), .grad_overflow_o(gov_w), .accum_o(acc_w), .accum_overflow_o(aov_w),
    .x_o(x_w), .x_overflow_o(xov_w)
  );

  integer k, i;
  initial begin
    done_o = 1'b0;
    mismatches_o = 0;
    $readmemh({Dir, "/x_in.hex"}, x_in_m);
    $readmemh({Dir, "/prec.hex"}, prec_m);
    $readmemh({Dir, "/mean.hex"}, mean_m);
    $readmemh({Dir, "/rand_grad.hex"}, rg_m);
    $readmemh({Dir, "/grad.hex"}, grad_m);
    $readmemh({Dir, "/grad_overflow.hex"}, gov_m);
    $readmemh({Dir, "/noise1.hex"}, noise_m);
    $readmemh({Dir, "/accum_x.hex"}, acc_m);
    $readmemh({Dir, "/accum_overflows.hex"}, aov_m);
    $readmemh({Dir, "/rand_x.hex"}, rx_m);
    $readmemh({Dir, "/x_out.hex"}, x_out_m);
    $readmemh({Dir, "/x_overflow.hex"}, xov_m);
    for (k = 0; k < N; k = k + 1) begin
      i = k % D;
      if (k < D) state[i] = x_in_m[k];
      x_r = state[i];
      mean_r = mean_m[k];
      prec_r = prec_m[k];
      noise_r = noise_m[k];
      rg_r = rg_m[k];
      rx_r = rx_m[k];
      #1;
      if (x_r !== x_in_m[k] || grad_w !== grad_m[k] || gov_w !== gov_m[k]
          || acc_w !== acc_m[k] || aov_w !== aov_m[k] || x_w !== x_out_m[k]
          || xov_w !== xov_m[k]) begin
        mismatches_o = mismatches_o + 1;
        if (mismatches_o <= 3)
          $display("%0s: vector %0d: x_in %h grad %h/%b accum %h/%b x_out %h/%b, expected %h %h/%b %h/%b %h/%b",
                   Dir, k, x_r, grad_w, gov_w, acc_w, aov_w, x_w, xov_w,
                   x_in_m[k], grad_m[k], gov_m[k], acc_m[k], aov_m[k], x_out_m[k], xov_m[k]);
      end
      state[i] = x_w;
    end
    $display("%0s: %0d vectors, %0d mismatches", Dir, N, mismatches_o);
    done_o = 1'b1;
  end
endmodule
