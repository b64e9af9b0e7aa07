// lpmc_noise_clt: the clt:K:B noise lane of lpmc's integer datapath, combinational.
// sum_o = 2*(u_0 + ... + u_{K-1}) - K*(2^B - 1), u_m = uniforms_i[B*m +: B]; noise_o =
// sum_o rounded by Shift bits, nearest-even (Shift < 0: shifted left), then saturated
// (Wrap = 0) or wrapped (Wrap = 1) to Wl bits; overflow_o flags the change.
module lpmc_noise_clt #(
  parameter integer K     = 4,
  parameter integer B     = 8,
  parameter integer Shift = 0,
  parameter integer Wl    = 8,
  parameter integer Wrap  = 0,
  // Derived, do not override: width of the signed sum (|sum| <= K*(2^B - 1)).
  parameter integer SumWl = $clog2(K * ((1 << B) - 1) + 1) + 1
) (
  input  wire [K*B-1:0]  uniforms_i,
  output wire [SumWl-1:0] sum_o,
  output wire [Wl-1:0]   noise_o,
  output wire            overflow_o
);
  localparam integer OffsetInt = K * ((1 << B) - 1);
  localparam [SumWl-1:0] Offset = OffsetInt[SumWl-1:0];
  reg [SumWl-1:0] acc;
  integer m;
  always @* begin
    acc = {SumWl{1'b0}};
    for (m = 0; m < K; m = m + 1) acc = acc + {{(SumWl-B){1'b0}}, uniforms_i[B*m +: B]};
  end
  assign sum_o = (acc << 1) - Offset;

  lpmc_requantize #(
    .InWl(SumWl), .InFl((Shift > 0) ? Shift : 0),
    .OutWl(Wl), .OutFl((Shift < 0) ? -Shift : 0),
    .Mode(0), .R(0), .Wrap(Wrap)
  ) u_round (
    .in_i(sum_o), .rand_i(1'b0), .out_o(noise_o), .overflow_o(overflow_o)
  );
endmodule
