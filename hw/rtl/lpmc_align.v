// lpmc_align: a signed term with InFl fraction bits brought to OutFl fraction bits in OutWl
// bits, combinational: out = in << (OutFl - InFl) when OutFl >= InFl (exact), else
// in >>> (InFl - OutFl) (arithmetic, floor). The accumulator alignment of lpmc's integer
// datapath (lpmc_kernels::lane::Arith::align). OutWl must hold the result: OutWl >= InWl +
// (OutFl - InFl) for a left shift, OutWl >= InWl - (InFl - OutFl) for a right one.
module lpmc_align #(
  parameter integer InWl  = 16,
  parameter integer InFl  = 8,
  parameter integer OutFl = 8,
  parameter integer OutWl = 16
) (
  input  wire [InWl-1:0]  in_i,
  output wire [OutWl-1:0] out_o
);
  localparam integer L   = (OutFl > InFl) ? OutFl - InFl : 0;
  localparam integer S   = (InFl > OutFl) ? InFl - OutFl : 0;
  localparam integer Big = ((InWl + L) > OutWl) ? (InWl + L) : OutWl;
  wire signed [InWl-1:0] k = in_i;
  wire signed [Big-1:0]  k_w = {{(Big-InWl){k[InWl-1]}}, k};
  /* verilator lint_off UNUSEDSIGNAL */
  wire signed [Big-1:0]  shifted = (k_w <<< L) >>> S;
  /* verilator lint_on UNUSEDSIGNAL */
  assign out_o = shifted[OutWl-1:0];
endmodule
