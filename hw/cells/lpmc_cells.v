// Calibration cells for the cost model (docs/cost-model.md): a signed A x B multiplier and
// a W-bit adder, the two arithmetic primitives the model prices, synthesized like the units.
module lpmc_mul #(parameter integer A = 8, parameter integer B = 8) (
  input  wire signed [A-1:0]   a_i,
  input  wire signed [B-1:0]   b_i,
  output wire signed [A+B-1:0] p_o
);
  assign p_o = a_i * b_i;
endmodule

module lpmc_add #(parameter integer W = 8) (
  input  wire [W-1:0] a_i,
  input  wire [W-1:0] b_i,
  output wire [W-1:0] s_o
);
  assign s_o = a_i + b_i;
endmodule

// A register of W bits (state storage: the cost model's state bits).
module lpmc_reg #(parameter integer W = 8) (
  input  wire         clk_i,
  input  wire [W-1:0] d_i,
  output reg  [W-1:0] q_o
);
  always @(posedge clk_i) q_o <= d_i;
endmodule
