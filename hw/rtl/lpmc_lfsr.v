// lpmc_lfsr: a Galois LFSR of Width bits advancing StepsPerCycle steps per enabled cycle.
// One step: out = s[0]; s = (s >> 1) ^ (out ? Taps : 0). bits_o holds the next
// StepsPerCycle output bits from the current state, the first in bit 0, so with
// StepsPerCycle = 64 bits_o is the stream's next 64-bit word (lpmc_kernels::Lfsr).
module lpmc_lfsr #(
  parameter integer Width         = 32,
  parameter [63:0]  Taps          = 64'h0000_0000_8020_0003,
  parameter integer StepsPerCycle = 64
) (
  input  wire                     clk_i,
  input  wire                     load_i,   // state <= state_i (has priority over en_i)
  input  wire [Width-1:0]         state_i,
  input  wire                     en_i,     // advance StepsPerCycle steps
  output wire [StepsPerCycle-1:0] bits_o,
  output wire [Width-1:0]         state_o
);
  reg [Width-1:0] state_q;
  reg [Width-1:0] next_s;
  reg [StepsPerCycle-1:0] bits;
  integer i;

  always @* begin
    next_s = state_q;
    for (i = 0; i < StepsPerCycle; i = i + 1) begin
      bits[i] = next_s[0];
      next_s  = (next_s >> 1) ^ (Taps[Width-1:0] & {Width{next_s[0]}});
    end
  end

  always @(posedge clk_i) begin
    if (load_i) state_q <= state_i;
    else if (en_i) state_q <= next_s;
  end

  assign bits_o  = bits;
  assign state_o = state_q;
endmodule
