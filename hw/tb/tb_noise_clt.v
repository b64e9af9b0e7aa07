// tb_noise_clt: replays a `lpmc vectors noise --gen clt:K:B` directory on lpmc_noise_clt,
// comparing sum, noise and overflow of every vector.
/* verilator lint_off WIDTH */
/* verilator lint_off BLKSEQ */
module tb_noise_clt #(
  parameter integer K     = 4,
  parameter integer B     = 8,
  parameter integer Shift = 0,
  parameter integer Wl    = 8,
  parameter integer Wrap  = 0,
  parameter integer N     = 1,
  parameter Dir = "."
) (
  output reg        done_o,
  output reg [31:0] mismatches_o
);
  localparam integer SumWl = $clog2(K * ((1 << B) - 1) + 1) + 1;
  reg [K*B-1:0]   uni_m   [0:N-1];
  reg [SumWl-1:0] sum_m   [0:N-1];
  reg [Wl-1:0]    noise_m [0:N-1];
  reg             ov_m    [0:N-1];
  reg  [K*B-1:0]   uni_r;
  wire [SumWl-1:0] sum_w;
  wire [Wl-1:0]    noise_w;
  wire             ov_w;

  lpmc_noise_clt #(.K(K), .B(B), .Shift(Shift), .Wl(Wl), .Wrap(Wrap)) dut (
    .uniforms_i(uni_r), .sum_o(sum_w), .noise_o(noise_w), .overflow_o(ov_w)
  );

  integer i;
  initial begin
    done_o = 1'b0;
    mismatches_o = 0;
    $readmemh({Dir, "/uniforms.hex"}, uni_m);
    $readmemh({Dir, "/sum.hex"}, sum_m);
    $readmemh({Dir, "/noise.hex"}, noise_m);
    $readmemh({Dir, "/overflow.hex"}, ov_m);
    for (i = 0; i < N; i = i + 1) begin
      uni_r = uni_m[i];
      #1;
      if (sum_w !== sum_m[i] || noise_w !== noise_m[i] || ov_w !== ov_m[i]) begin
        mismatches_o = mismatches_o + 1;
        if (mismatches_o <= 3)
          $display("%0s: vector %0d: sum %h noise %h overflow %b, expected %h %h %b",
                   Dir, i, sum_w, noise_w, ov_w, sum_m[i], noise_m[i], ov_m[i]);
      end
    end
    $display("%0s: %0d vectors, %0d mismatches", Dir, N, mismatches_o);
    done_o = 1'b1;
  end
endmodule
