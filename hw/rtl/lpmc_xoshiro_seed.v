// lpmc_xoshiro_seed: the xoshiro256++ state of lpmc stream (seed, stream), combinational:
// key = mix64(mix64(seed) ^ stream); s[i] = mix64(key + (i+1)*0x9E3779B97F4A7C15), with
// mix64 the SplitMix64 output function. state_o = {s3, s2, s1, s0}.
module lpmc_xoshiro_seed (
  input  wire [63:0]  seed_i,
  input  wire [63:0]  stream_i,
  output wire [255:0] state_o
);
  localparam [63:0] Phi = 64'h9E37_79B9_7F4A_7C15;

  function [63:0] mix64;
    input [63:0] z_in;
    reg [63:0] z;
    begin
      z = (z_in ^ (z_in >> 30)) * 64'hBF58_476D_1CE4_E5B9;
      z = (z ^ (z >> 27)) * 64'h94D0_49BB_1331_11EB;
      mix64 = z ^ (z >> 31);
    end
  endfunction

  wire [63:0] key = mix64(mix64(seed_i) ^ stream_i);
  assign state_o = {mix64(key + 4 * Phi), mix64(key + 3 * Phi),
                    mix64(key + 2 * Phi), mix64(key + Phi)};
endmodule
