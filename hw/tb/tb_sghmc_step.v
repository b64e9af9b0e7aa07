// tb_sghmc_step: replays a `lpmc vectors sghmc-step` directory on lpmc_sghmc_lane. The lane
// runs the chain itself: each coordinate's x and v registers start at x_in, v_in of step 0
// and are then fed from the lane's own x_o, v_o, so every later x_in, v_in of the vectors is
// checked too. Per vector it compares x_in, v_in, grad, grad_overflow, accum_v, accum_x,
// accum_overflows (the count of the two sums' overflow flags), v_out, v_overflow, x_out,
// x_overflow.
/* verilator lint_off WIDTH */
/* verilator lint_off BLKSEQ */
module tb_sghmc_step #(
  parameter integer D = 1,
  parameter integer XWl = 8,  parameter integer XFl = 5,
  parameter integer VWl = 8,  parameter integer VFl = 5,
  parameter integer GWl = 8,  parameter integer GFl = 5,
  parameter integer NWl = 8,  parameter integer NFl = 5,
  parameter integer CWl = 16, parameter integer CFl = 14,
  parameter integer AWl = 32, parameter integer AFl = 24,
  parameter integer Mode = 4, parameter integer R = 8,
  parameter integer WrapX = 0, parameter integer WrapV = 0,
  parameter integer WrapG = 0, parameter integer WrapA = 0,
  parameter signed [63:0] C0 = 0, parameter signed [63:0] C1 = 0,
  parameter signed [63:0] C2 = 0, parameter signed [63:0] C3 = 0,
  parameter signed [63:0] C4 = 0, parameter signed [63:0] C5 = 0,
  parameter signed [63:0] C6 = 0,
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
  localparam integer ShiftV  = AFl - VFl;
  localparam integer RBitsV  = (Mode == 5) ? ((ShiftV > 0) ? ShiftV : 0)
                             : ((Mode == 4 || Mode == 6) ? R : 0);
  localparam integer RandVWl = (RBitsV > 0) ? RBitsV : 1;
  localparam integer ShiftX  = AFl - XFl;
  localparam integer RBitsX  = (Mode == 5) ? ((ShiftX > 0) ? ShiftX : 0)
                             : ((Mode == 4 || Mode == 6) ? R : 0);
  localparam integer RandXWl = (RBitsX > 0) ? RBitsX : 1;

  reg [XWl-1:0]     x_in_m   [0:N-1];
  reg [VWl-1:0]     v_in_m   [0:N-1];
  reg [CWl-1:0]     prec_m   [0:N-1];
  reg [XWl-1:0]     mean_m   [0:N-1];
  reg [RandGWl-1:0] rg_m     [0:N-1];
  reg [GWl-1:0]     grad_m   [0:N-1];
  reg               gov_m    [0:N-1];
  reg [NWl-1:0]     n1_m     [0:N-1];
  reg [NWl-1:0]     n2_m     [0:N-1];
  reg [AWl-1:0]     accv_m   [0:N-1];
  reg [AWl-1:0]     accx_m   [0:N-1];
  reg [1:0]         aov_m    [0:N-1];
  reg [RandVWl-1:0] rv_m     [0:N-1];
  reg [VWl-1:0]     v_out_m  [0:N-1];
  reg               vov_m    [0:N-1];
  reg [RandXWl-1:0] rx_m     [0:N-1];
  reg [XWl-1:0]     x_out_m  [0:N-1];
  reg               xov_m    [0:N-1];
  reg [XWl-1:0]     x_state  [0:D-1];
  reg [VWl-1:0]     v_state  [0:D-1];

  reg  [XWl-1:0]     x_r, mean_r;
  reg  [VWl-1:0]     v_r;
  reg  [CWl-1:0]     prec_r;
  reg  [NWl-1:0]     n1_r, n2_r;
  reg  [RandGWl-1:0] rg_r;
  reg  [RandVWl-1:0] rv_r;
  reg  [RandXWl-1:0] rx_r;
  wire [GWl-1:0]     grad_w;
  wire [AWl-1:0]     accv_w, accx_w;
  wire [VWl-1:0]     v_w;
  wire [XWl-1:0]     x_w;
  wire               gov_w, aovv_w, aovx_w, vov_w, xov_w;
  wire [1:0]         aov_w = {1'b0, aovv_w} + {1'b0, aovx_w};
  wire [7*CWl-1:0]   coefs = {C6[CWl-1:0], C5[CWl-1:0], C4[CWl-1:0], C3[CWl-1:0],
                              C2[CWl-1:0], C1[CWl-1:0], C0[CWl-1:0]};

  lpmc_sghmc_lane #(
    .XWl(XWl), .XFl(XFl), .VWl(VWl), .VFl(VFl), .GWl(GWl), .GFl(GFl), .NWl(NWl), .NFl(NFl),
    .CWl(CWl), .CFl(CFl), .AWl(AWl), .AFl(AFl), .Mode(Mode), .R(R),
    .WrapX(WrapX), .WrapV(WrapV), .WrapG(WrapG), .WrapA(WrapA)
  ) dut (
    .x_i(x_r), .v_i(v_r), .mean_i(mean_r), .prec_i(prec_r), .coefs_i(coefs),
    .noise1_i(n1_r), .noise2_i(n2_r), .rand_grad_i(rg_r), .rand_v_i(rv_r), .rand_x_i(rx_r),
    .grad_o(grad_w), .grad_overflow_o(gov_w), .accum_v_o(accv_w), .accum_x_o(accx_w),
    .accum_v_overflow_o(aovv_w), .accum_x_overflow_o(aovx_w),
    .v_o(v_w), .v_overflow_o(vov_w), .x_o(x_w), .x_overflow_o(xov_w)
  );

  integer k, i;
  initial begin
    done_o = 1'b0;
    mismatches_o = 0;
    $readmemh({Dir, "/x_in.hex"}, x_in_m);
    $readmemh({Dir, "/v_in.hex"}, v_in_m);
    $readmemh({Dir, "/prec.hex"}, prec_m);
    $readmemh({Dir, "/mean.hex"}, mean_m);
    $readmemh({Dir, "/rand_grad.hex"}, rg_m);
    $readmemh({Dir, "/grad.hex"}, grad_m);
    $readmemh({Dir, "/grad_overflow.hex"}, gov_m);
    $readmemh({Dir, "/noise1.hex"}, n1_m);
    $readmemh({Dir, "/noise2.hex"}, n2_m);
    $readmemh({Dir, "/accum_v.hex"}, accv_m);
    $readmemh({Dir, "/accum_x.hex"}, accx_m);
    $readmemh({Dir, "/accum_overflows.hex"}, aov_m);
    $readmemh({Dir, "/rand_v.hex"}, rv_m);
    $readmemh({Dir, "/v_out.hex"}, v_out_m);
    $readmemh({Dir, "/v_overflow.hex"}, vov_m);
    $readmemh({Dir, "/rand_x.hex"}, rx_m);
    $readmemh({Dir, "/x_out.hex"}, x_out_m);
    $readmemh({Dir, "/x_overflow.hex"}, xov_m);
    for (k = 0; k < N; k = k + 1) begin
      i = k % D;
      if (k < D) begin
        x_state[i] = x_in_m[k];
        v_state[i] = v_in_m[k];
      end
      x_r = x_state[i];
      v_r = v_state[i];
      mean_r = mean_m[k];
      prec_r = prec_m[k];
      n1_r = n1_m[k];
      n2_r = n2_m[k];
      rg_r = rg_m[k];
      rv_r = rv_m[k];
      rx_r = rx_m[k];
      #1;
      if (x_r !== x_in_m[k] || v_r !== v_in_m[k] || grad_w !== grad_m[k] || gov_w !== gov_m[k]
          || accv_w !== accv_m[k] || accx_w !== accx_m[k] || aov_w !== aov_m[k]
          || v_w !== v_out_m[k] || vov_w !== vov_m[k] || x_w !== x_out_m[k]
          || xov_w !== xov_m[k]) begin
        mismatches_o = mismatches_o + 1;
        if (mismatches_o <= 3)
          $display("%0s: vector %0d: x,v in %h %h grad %h accum %h %h/%0d out %h/%b %h/%b, expected %h %h %h %h %h/%0d %h/%b %h/%b",
                   Dir, k, x_r, v_r, grad_w, accv_w, accx_w, aov_w, v_w, vov_w, x_w, xov_w,
                   x_in_m[k], v_in_m[k], grad_m[k], accv_m[k], accx_m[k], aov_m[k],
                   v_out_m[k], vov_m[k], x_out_m[k], xov_m[k]);
      end
      x_state[i] = x_w;
      v_state[i] = v_w;
    end
    $display("%0s: %0d vectors, %0d mismatches", Dir, N, mismatches_o);
    done_o = 1'b1;
  end
endmodule
