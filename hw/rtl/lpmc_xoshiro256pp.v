// lpmc_xoshiro256pp: the xoshiro256++ generator, one 64-bit word per enabled cycle.
// word_o = rotl(s0 + s3, 23) + s0 from the current state; a step is
// t = s1 << 17; s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 45).
// State layout on state_i/state_o: {s3, s2, s1, s0} (s0 in bits 63:0).
module lpmc_xoshiro256pp (
  input  wire         clk_i,
  input  wire         load_i,   // state <= state_i (has priority over en_i)
  input  wire [255:0] state_i,
  input  wire         en_i,     // step once
  output wire [63:0]  word_o,
  output wire [255:0] state_o
);
  reg [63:0] s0, s1, s2, s3;
  wire [63:0] sum = s0 + s3;
  assign word_o  = {sum[40:0], sum[63:41]} + s0;
  assign state_o = {s3, s2, s1, s0};

  wire [63:0] t   = s1 << 17;
  wire [63:0] n2a = s2 ^ s0;
  wire [63:0] n3a = s3 ^ s1;
  wire [63:0] n1  = s1 ^ n2a;
  wire [63:0] n0  = s0 ^ n3a;
  wire [63:0] n2  = n2a ^ t;
  wire [63:0] n3  = {n3a[18:0], n3a[63:19]};

  always @(posedge clk_i) begin
    if (load_i) begin
      {s3, s2, s1, s0} <= state_i;
    end else if (en_i) begin
      s0 <= n0;
      s1 <= n1;
      s2 <= n2;
      s3 <= n3;
    end
  end
endmodule
