// lpmc_noise_table: the table:T noise lane, a 2^T x Wl ROM read combinationally:
// noise_o = table[index_i]. The ROM image is TableFile ($readmemh, one Wl-bit two's
// complement code per line: the table.hex that `lpmc vectors noise --gen table:T` writes).
module lpmc_noise_table #(
  parameter integer T = 8,
  parameter integer Wl = 8,
  parameter TableFile = "table.hex"
) (
  input  wire [T-1:0]  index_i,
  output wire [Wl-1:0] noise_o
);
  reg [Wl-1:0] rom [0:(1 << T) - 1];
  initial $readmemh(TableFile, rom);
  assign noise_o = rom[index_i];
endmodule
